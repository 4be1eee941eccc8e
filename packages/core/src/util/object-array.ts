/**
 * An empty array made for objects.
 *
 * V8 makes an empty `[]` an array of small integers and changes its kind when the first object is
 * stored. Where every builder of a load starts such an array and fills it with objects, the code
 * V8 optimized while earlier builders' arrays already held objects is thrown away at each new
 * builder's first object. An array made with one object element and emptied keeps the kind for
 * objects, so all of them have the same kind from the start.
 */
export function emptyObjectArray<T extends object>(): T[] {
  const array: (T | undefined)[] = [undefined];
  array.length = 0;
  return array as T[];
}
