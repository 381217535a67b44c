// What callers of the S3 store need to know without loading the SDK: what an upload holds in
// memory (the reconciler budgets every upload with it, also in a pass that never needs S3)
// and the metadata key naming an object's host.

/** Parts of one multipart upload in flight at once (lib-storage holds one more being filled). */
export const PART_QUEUE_SIZE = 4;

/** File bytes one upload of `size` bytes holds: the whole file up to one part, else the parts lib-storage buffers. */
export function uploadHoldsBytes(size: number, partSizeBytes: number): number {
  return size <= partSizeBytes ? size : Math.min(size, (PART_QUEUE_SIZE + 1) * partSizeBytes);
}

/** User metadata key naming the host that uploaded an object. */
export const SOURCE_HOST_METADATA = 'source-host';
