import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import type { ErrorObject } from 'ajv';
import type { InputProblem } from './errors.js';

export interface LoadedYaml {
  doc: Document;
  value: unknown;
  lines: LineCounter;
  problems: InputProblem[];
}

/** Parses YAML keeping positions, so every later problem can name its line. */
export function loadYaml(text: string, file: string): LoadedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const problems: InputProblem[] = doc.errors.map((e) => ({
    file,
    line: e.linePos?.[0].line,
    column: e.linePos?.[0].col,
    message: `YAML: ${e.message.split('\n')[0]}`,
  }));
  return { doc, value: problems.length ? undefined : doc.toJS(), lines, problems };
}

/** Line and column of the node at a JSON-pointer path (or its nearest existing parent). */
export function positionOf(loaded: LoadedYaml, pointer: string): { line?: number; column?: number } {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (let n = parts.length; n >= 0; n--) {
    const path = parts.slice(0, n).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    const node = n === 0 ? loaded.doc.contents : loaded.doc.getIn(path, true);
    if (isNode(node) && node.range) {
      const pos = loaded.lines.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return {};
}

/** ajv errors as problems with file and line. */
export function schemaProblems(errors: ErrorObject[] | null | undefined, loaded: LoadedYaml, file: string, prefix = ''): InputProblem[] {
  return (errors ?? []).map((e) => {
    const path = prefix + e.instancePath;
    const extra = e.keyword === 'additionalProperties'
      ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'`
      : e.keyword === 'enum'
        ? `: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`
        : '';
    return { file, ...positionOf(loaded, path), path: path || '/', message: `${e.message ?? 'invalid'}${extra}` };
  });
}
