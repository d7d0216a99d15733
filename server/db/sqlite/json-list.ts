/**
 * A list travels into a statement as one JSON array parameter, read with `json_each`. The statements
 * of the send path read it as the outer table of a join (`FROM json_each(?) AS list JOIN t ON t.key =
 * list.value`: one index lookup per value), not as `key IN (SELECT value FROM json_each(?))`: for such
 * an IN list SQLite builds an ephemeral b-tree, a page cache of its own made and dropped on every run
 * (several per dispatched batch). A join answers a value as often as the list holds it, where IN
 * answers it once: the list is made of distinct values here, so that a repeated id costs no second
 * lookup and no statement written as a join (and a GROUP BY or a sum) can count a row twice. The
 * repositories' answers are maps keyed by the value, so they are the same either way (the storage
 * contract asks lists with repeated values).
 */
export function distinctJson(values: readonly string[]): string {
  return JSON.stringify(values.length < 2 ? values : [...new Set(values)])
}
