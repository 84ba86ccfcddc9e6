/**
 * Native section boundaries: ModSecurity 2 writes `--0a1b2c3d-A--`,
 * ModSecurity 3 `---5cmpJKxk---A--` (the id is 8 letters or digits in
 * both). A line is a boundary of a record only with that record's id, so
 * body text that looks like a boundary of another record is body text.
 */

export interface Boundary {
  readonly id: string;
  /** The section letter, `A` to `Z`. */
  readonly section: string;
}

const BOUNDARY = /^(?:--([0-9A-Za-z]{1,64})-|---([0-9A-Za-z]{1,64})---)([A-Z])--\s*$/;

/** The boundary a line is, or undefined; a trailing CR or space is allowed. */
export function parseBoundary(line: string): Boundary | undefined {
  if (line.charCodeAt(0) !== 0x2d /* - */ || line.charCodeAt(1) !== 0x2d) return undefined;
  const m = BOUNDARY.exec(line);
  if (m === null) return undefined;
  return { id: (m[1] ?? m[2])!, section: m[3]! };
}

/** Whether `line` is the boundary of section `section` of the record with id `id`. */
export function isBoundaryOf(line: string, id: string): string | undefined {
  if (line.charCodeAt(0) !== 0x2d || !line.includes(id)) return undefined;
  const boundary = parseBoundary(line);
  return boundary !== undefined && boundary.id === id ? boundary.section : undefined;
}
