import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

/** The rule sets a public service is held to: WCAG 2.2 A and AA (with 2.0/2.1), and axe's best practices. */
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

let source: string | undefined;

interface AxeNode {
  readonly target: string[];
  readonly failureSummary?: string;
}
interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: AxeNode[];
}

/**
 * axe-core's findings on the page as it stands, one line each (rule, impact, the first
 * elements): an empty list is a page axe finds nothing wrong with. axe is evaluated through the
 * DevTools protocol, so the pages' CSP (script-src 'self') stays as deployed.
 */
export async function accessibilityProblems(page: Page, name: string): Promise<string[]> {
  source ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  const violations = await page.evaluate<AxeViolation[]>(`axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(TAGS)} } }).then((r) => r.violations)`);
  return violations.map(
    (v) => `${name}: ${v.id} (${v.impact ?? 'n/a'}) ${v.help}: ${v.nodes
      .slice(0, 3)
      .map((n) => n.target.join(' '))
      .join(', ')}`,
  );
}
