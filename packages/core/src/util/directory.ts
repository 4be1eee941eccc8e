import { opendir } from 'node:fs/promises';

/**
 * Entry names in the order the filesystem returns them (readdir order, not sorted): ClamAV walks
 * directories in this order, which decides both output order and which duplicate signature wins.
 */
export async function listInDirectoryOrder(directory: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of await opendir(directory)) names.push(entry.name);
  return names;
}
