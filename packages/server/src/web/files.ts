import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * The set of files in the web build, read from disk and re-read at most every `ttlMs`, so a
 * rebuild while the server runs is picked up. Only names in this set are ever served: a
 * request path is looked up, never joined onto the file system, so it cannot escape dist.
 */
export class BuiltFiles {
  readonly root: string;
  readonly #ttlMs: number;
  #files: ReadonlySet<string> | null = null;
  #readAt = 0;

  constructor(root: string, ttlMs = 2_000) {
    this.root = root;
    this.#ttlMs = ttlMs;
  }

  /** The build's files as `console/index.html`-style paths, or null when there is no build. */
  current(now = Date.now()): ReadonlySet<string> | null {
    if (this.#files === null || now - this.#readAt > this.#ttlMs) {
      this.#files = scan(this.root);
      this.#readAt = now;
    }
    return this.#files;
  }
}

function scan(root: string): ReadonlySet<string> | null {
  try {
    if (!statSync(join(root, 'console', 'index.html')).isFile()) return null;
  } catch {
    return null;
  }
  const files = new Set<string>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.add(relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'));
  }
  return files;
}
