// How new items go to the table, without loading the SDK (the lazy stores of context.ts need
// the batch size before the first request).

/** batch = BatchWriteItem (cheapest on AWS); transact = TransactWriteItems (one commit each). */
export type ItemWriteMode = 'batch' | 'transact';

/** Items one request of each kind takes. */
export const PUT_MANY_LIMIT: Readonly<Record<ItemWriteMode, number>> = { batch: 25, transact: 100 };
