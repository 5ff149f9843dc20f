import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Plugin } from 'vite';

interface Options {
  /** The HTML entry whose files the worker precaches, relative to the Vite root. */
  readonly entry: string;
  /** URL folder the worker controls; the worker is written there as sw.js. */
  readonly scope: string;
  /** Plain JavaScript worker with `const PRECACHE = [];` and `const VERSION = 'dev';` lines. */
  readonly template: string;
  /** Files copied from public/ that the shell also needs (manifest, icons), as URL paths. */
  readonly extra?: readonly string[];
}

interface ChunkLike {
  readonly type: 'chunk' | 'asset';
  readonly imports?: readonly string[];
  readonly viteMetadata?: { readonly importedCss: ReadonlySet<string>; readonly importedAssets: ReadonlySet<string> };
}

/**
 * Writes the citizen app's service worker with the exact hashed files of its shell, so the
 * installed app opens offline and a new build replaces the old cache instead of mixing them.
 */
export function serviceWorkerPlugin(options: Options): Plugin {
  return {
    name: 'tasdiq-service-worker',
    apply: 'build',
    enforce: 'post',
    generateBundle(_output, bundle) {
      const html = bundle[options.entry];
      if (!html || html.type !== 'asset') this.error(`service worker: ${options.entry} was not built`);
      const source = String(html.source);
      const files = new Set<string>();
      const visit = (fileName: string) => {
        if (files.has(fileName)) return;
        const item = bundle[fileName] as ChunkLike | undefined;
        if (!item) return;
        files.add(fileName);
        for (const imported of item.imports ?? []) visit(imported);
        for (const css of item.viteMetadata?.importedCss ?? []) visit(css);
        for (const asset of item.viteMetadata?.importedAssets ?? []) visit(asset);
      };
      for (const match of source.matchAll(/(?:src|href)="\/([^"?#]+)"/g)) {
        const fileName = match[1]!;
        if (bundle[fileName]) visit(fileName);
      }
      const precache = [options.scope, ...(options.extra ?? []), ...[...files].sort().map((f) => `/${f}`)];
      const version = createHash('sha256').update(precache.join('\n')).update(source).digest('hex').slice(0, 16);
      const template = readFileSync(options.template, 'utf8');
      if (!template.includes('const PRECACHE = [];') || !template.includes("const VERSION = 'dev';")) {
        this.error('service worker template lacks its PRECACHE/VERSION lines');
      }
      this.emitFile({
        type: 'asset',
        fileName: `${options.scope.replace(/^\/|\/$/g, '')}/sw.js`,
        source: template
          .replace('const PRECACHE = [];', `const PRECACHE = ${JSON.stringify(precache)};`)
          .replace("const VERSION = 'dev';", `const VERSION = '${version}';`),
      });
    },
  };
}
