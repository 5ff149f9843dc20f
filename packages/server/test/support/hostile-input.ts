/**
 * Input a stranger may send, for sweeps that hold every route to "a 4xx with a code, never a
 * 5xx": text that databases treat differently (NUL, a lone surrogate half), lengths past any
 * limit, look-alikes of real identifiers, and values of the wrong type.
 */
export const HOSTILE_TEXT: readonly string[] = [
  '',
  'x',
  'a'.repeat(3000),
  '\u0000',
  'a\u0000b',
  '\ud800',
  '%',
  '%00',
  '💥',
  '__proto__',
  '{"a":1}',
  '1e999',
  '-1',
  '99999999999999999999',
  'https://evil.example/',
  'eyJhbGciOiJub25lIn0.e30.',
  '31505900012345',
  '+998901234567',
  'as_aaaaaaaaaaaaaaaaaaaaaa',
];

export const HOSTILE_VALUES: readonly unknown[] = [...HOSTILE_TEXT, null, 0, -1, 2 ** 53, 1.5, true, [], {}, [{}]];

/** A form or URL component of `text`; a lone surrogate has no UTF-8, so it is sent as the raw bytes one would be. */
export function encodeComponent(text: string): string {
  return text.isWellFormed() ? encodeURIComponent(text) : '%ED%A0%80';
}

type Schema = { $ref?: string; const?: unknown; enum?: unknown[]; oneOf?: Schema[]; anyOf?: Schema[]; type?: string | string[]; properties?: Record<string, Schema>; items?: Schema; minimum?: number; minLength?: number };

function resolve(schema: Schema | undefined, document: unknown): Schema | undefined {
  if (!schema?.$ref) return schema;
  const target = schema.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document) as Schema | undefined;
  return resolve(target, document);
}

/** A value of the schema's shape (every property present), to mutate one field at a time. */
export function plausible(schema: Schema | undefined, document: unknown): unknown {
  const s = resolve(schema, document);
  if (!s) return {};
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  if (s.oneOf?.[0] ?? s.anyOf?.[0]) return plausible(s.oneOf?.[0] ?? s.anyOf?.[0], document);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (type === 'object' || s.properties) return Object.fromEntries(Object.entries(s.properties ?? {}).map(([key, sub]) => [key, plausible(sub, document)]));
  if (type === 'array') return [plausible(s.items, document)];
  if (type === 'integer' || type === 'number') return s.minimum ?? 1;
  if (type === 'boolean') return true;
  return 'x'.repeat(Math.max(1, s.minLength ?? 1));
}

/** The value itself, then each field replaced by every hostile value, nested objects too, and each field left out. */
export function* mutations(schema: Schema | undefined, document: unknown, value: unknown, depth = 0): Generator<unknown> {
  yield value;
  if (depth > 3 || !value || typeof value !== 'object' || Array.isArray(value)) return;
  const properties = resolve(schema, document)?.properties ?? {};
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    for (const hostile of HOSTILE_VALUES) yield { ...record, [key]: hostile };
    const inner = record[key];
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
      const nested = mutations(properties[key], document, inner, depth + 1);
      nested.next();
      for (const changed of nested) yield { ...record, [key]: changed };
    }
    const { [key]: _left, ...rest } = record;
    yield rest;
  }
}
