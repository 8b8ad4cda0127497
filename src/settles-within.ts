/**
 * A wait with a deadline (issue 19: a shutdown ends whatever Redis or the
 * store does): whether `promise` settles, either way, within `ms`. The
 * promise itself runs on; its outcome is not waited for past the deadline.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, timeout]);
  clearTimeout(timer);
  return result;
}
