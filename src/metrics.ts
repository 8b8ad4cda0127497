/** Process-wide counters for `/metrics`; the hub keeps its own gauges. */
export class Metrics {
  posts = 0;
  postsRejected = 0;
  postsReplayed = 0;
  replays = 0;
  resets = 0;
  streamsOpened = 0;
}
