// What an upload to the S3 store holds in memory, without loading the SDK: the reconciler
// budgets memory with it on every upload, also in a pass that never needs S3.

/** Parts of one multipart upload in flight at once (lib-storage holds one more being filled). */
export const PART_QUEUE_SIZE = 4;

/** File bytes one upload of `size` bytes holds: the whole file up to one part, else the parts lib-storage buffers. */
export function uploadHoldsBytes(size: number, partSizeBytes: number): number {
  return size <= partSizeBytes ? size : Math.min(size, (PART_QUEUE_SIZE + 1) * partSizeBytes);
}
