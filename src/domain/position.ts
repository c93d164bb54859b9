/**
 * A message's place in its conversation's total order, when the back end has one: a number (a
 * per-conversation sequence) or an opaque token that sorts in that order as a string (code unit
 * order, e.g. a zero-padded or time-ordered archive id). Two positions of one conversation are
 * always of the same type.
 */
export type Position = number | string;

/** Whether `a` comes before `b` in their conversation (numbers numerically, tokens as strings). */
export function positionBefore(a: Position, b: Position): boolean {
  // Both of one type (see Position): JavaScript's `<` orders numbers numerically and strings by
  // code units, which is the order a token promises.
  return (a as number) < (b as number);
}
