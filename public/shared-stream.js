// @ts-check
/**
 * One live stream for every tab of this site, whatever the number of tabs.
 *
 * A browser opens at most six HTTP/1.1 connections per origin, and every
 * EventSource holds one for good: a seventh tab would not even load. So
 * the tabs elect a leader with a Web Lock; it alone holds a stream, of the
 * walls of every tab (`/api/events?walls=…`), and hands each event to the
 * other tabs over a BroadcastChannel. (Not a SharedWorker: Android's
 * Chrome has none.)
 *
 * - A tab says hello with its wall and the cursor its page was rendered
 *   at. A wall new to the stream joins it at that cursor (the leader
 *   reopens the stream, resuming every other wall from the position it
 *   holds); a tab on a wall the stream follows already gets the leader's
 *   recent events after its cursor (a `welcome`), or reads them from the
 *   history when the leader does not have them.
 * - Every event goes to every tab with the stream's whole position after
 *   it; a tab keeps the events of its own wall and the position.
 * - The lock is the election: when the leader's tab closes, the browser
 *   gives the lock to the next tab waiting, which resumes the stream from
 *   the last position it heard, so no event is missed; one it heard twice
 *   is merged by id like any other.
 *
 * - Presence (issue 17): the stream asks for it (`presence=count`, or
 *   `members` on a page read with a token) and names this browser with one
 *   client id for all its tabs (`client=`, kept in localStorage), so the
 *   server counts a person once however many tabs they have. The leader
 *   passes each `presence` event to every tab, and keeps the last one per
 *   wall for a tab that opens later.
 *
 * Without Web Locks (a page on plain HTTP that is not localhost) or
 * BroadcastChannel, the tab holds its own stream, as every tab used to.
 */

/** @typedef {import('./wallcast-client.js').Message} Message */
/** @typedef {import('./wallcast-client.js').Presence} Presence */
/** @typedef {import('./wallcast-client.js').Position} Position */
/** @typedef {import('./wallcast-client.js').StreamState} StreamState */
/** @typedef {import('./wallcast-client.js').Subscription} Subscription */
/** @typedef {import('./wallcast-client.js').WallcastClient} WallcastClient */

/**
 * What happened on a wall.
 * @typedef {{kind: 'message', message: Message} | {kind: 'delete', id: string} | {kind: 'reset', reason: string}} WallEvent
 */

/**
 * An event as it travels between tabs: its wall, and that wall's cursor after it.
 * @typedef {{wall: string, cursor: string, event: WallEvent}} Entry
 */

/**
 * What a tab's badge shows: `data-state` of the page's `role="status"`.
 * @typedef {StreamState | 'offline'} TabState
 */

/**
 * The messages between tabs. Every one says which tab sent it.
 * @typedef {{type: 'hello', from: string, wall: string, cursor: string}
 *   | {type: 'presence', from: string, presence: Presence}
 *   | {type: 'bye', from: string}
 *   | {type: 'roll-call', from: string}
 *   | {type: 'welcome', from: string, to: string, entries: Entry[] | null}
 *   | {type: 'event', from: string, entry: Entry, position: Position}
 *   | {type: 'state', from: string, state: StreamState, walls: string[], position: Position}} Note
 */

const CHANNEL_NAME = 'wallcast-stream';
const LEADER_LOCK = 'wallcast-stream-leader';
/** Tabs that open together (a restored session) change the stream's walls once, not once each. */
const REOPEN_DEBOUNCE_MS = 25;
/**
 * Events the leader keeps per wall to welcome a tab that opened on a wall
 * the stream follows already: its page was rendered a moment ago, so a
 * few suffice; older ones it reads from the history.
 */
const RECENT_EVENTS_PER_WALL = 200;
/** Messages per history read when a tab catches up by itself. */
const CATCH_UP_PAGE_SIZE = 100;
/** A history read that failed (the server restarting) is tried again after this. */
const CATCH_UP_RETRY_MS = 1000;
/** Where this browser's client id is kept, shared by its tabs. */
const CLIENT_ID_KEY = 'wallcast:client-id';
/** The server's shape of a client id (issue 17): 8–64 of A-Z a-z 0-9 _ -. */
const CLIENT_ID = /^[A-Za-z0-9_-]{8,64}$/;
/**
 * Walls one stream may follow (the server's bound, API.md "Streaming"). A
 * tab on a wall past it stays `connecting` rather than have the server
 * refuse the stream of every tab.
 */
const MAX_STREAM_WALLS = 32;

/**
 * @typedef {object} SharedStreamOptions
 * @property {WallcastClient} client
 * @property {string} wall this tab's wall
 * @property {string} cursor where this tab's page was rendered (its `data-cursor`)
 * @property {(event: WallEvent) => void} onEvent an event of this tab's wall
 * @property {(state: TabState) => void} onState
 * @property {(role: 'leader' | 'follower' | 'alone') => void} [onRole]
 * @property {(presence: Presence) => void} [onPresence] who is on this tab's wall
 * @property {'count' | 'members'} [presence] what the stream asks of presence (default `count`); the leader's page decides
 */

/**
 * Joins the tabs' shared stream (or, without Web Locks or BroadcastChannel,
 * opens this tab's own). `close` when the page goes away (`pagehide`), and
 * `rejoin` when it comes back from the back-forward cache.
 * @param {SharedStreamOptions} options
 * @returns {{close(): void, rejoin(): void}}
 */
export function joinSharedStream(options) {
  const canShare = typeof BroadcastChannel === 'function' && navigator.locks !== undefined;
  const tab = new TabStream(options, canShare);
  tab.start();
  return { close: () => tab.close(), rejoin: () => tab.start() };
}

class TabStream {
  tabId = newTabId();
  /** @type {SharedStreamOptions} */
  options;
  wall;
  /** This tab's cursor in its wall: how far its page is complete. */
  cursor;
  canShare;
  /** @type {BroadcastChannel | undefined} */
  channel;
  /** Every tab known, this one included: its wall and cursor. @type {Map<string, {wall: string, cursor: string}>} */
  tabs = new Map();
  /** The shared stream's position, as last heard from its leader. @type {Map<string, string>} */
  position = new Map();
  /** @type {string | undefined} */
  leaderId;
  /** The leader said bye: the next one is taking over. */
  handingOver = false;
  /** The leader's last word on the stream. @type {{state: StreamState, walls: string[]} | undefined} */
  leaderState;
  /** @type {Leader | undefined} */
  leader;
  /** The page holds everything of its wall up to `cursor`; until then, events wait in `held`. */
  synced = false;
  catchingUp = false;
  /** @type {Entry[]} */
  held = [];
  /** Resolves the lock's promise: the lock goes to the next tab. @type {(() => void) | undefined} */
  releaseLock;
  closed = false;

  /**
   * @param {SharedStreamOptions} options
   * @param {boolean} canShare
   */
  constructor(options, canShare) {
    this.options = options;
    this.wall = options.wall;
    this.cursor = options.cursor;
    this.canShare = canShare;
    window.addEventListener('online', () => this.showState());
    window.addEventListener('offline', () => this.showState());
  }

  start() {
    if (this.channel !== undefined || this.leader !== undefined) return;
    // Back from the back-forward cache, the page lacks what came meanwhile: it is welcomed again.
    this.closed = false;
    this.synced = false;
    this.tabs = new Map([[this.tabId, { wall: this.wall, cursor: this.cursor }]]);
    this.showState();
    if (!this.canShare) {
      this.options.onRole?.('alone');
      this.lead();
      return;
    }
    this.options.onRole?.('follower');
    const channel = new BroadcastChannel(CHANNEL_NAME);
    this.channel = channel;
    channel.addEventListener('message', (event) => this.hear(/** @type {Note} */ (event.data)));
    this.say({ type: 'hello', from: this.tabId, wall: this.wall, cursor: this.cursor });
    // Waits in the lock's queue until every tab before it has closed; holds it while the tab lives.
    void navigator.locks.request(LEADER_LOCK, () => {
      if (this.closed) return undefined;
      this.lead();
      return new Promise((resolve) => {
        this.releaseLock = () => resolve(undefined);
      });
    });
  }

  /** The tab goes away (closed, or into the back-forward cache): the stream goes to another tab. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.leader?.stop();
    this.leader = undefined;
    this.say({ type: 'bye', from: this.tabId });
    this.channel?.close();
    this.channel = undefined;
    this.releaseLock?.();
    this.releaseLock = undefined;
  }

  lead() {
    this.leaderId = this.tabId;
    this.handingOver = false;
    this.leader = new Leader(this);
    if (this.canShare) this.options.onRole?.('leader');
    this.leader.begin();
  }

  /** @param {Note} note */
  say(note) {
    this.channel?.postMessage(note);
  }

  /** @param {Note} note */
  hear(note) {
    switch (note.type) {
      case 'hello':
        this.tabs.set(note.from, { wall: note.wall, cursor: note.cursor });
        this.leader?.join(note.from, note.wall, note.cursor);
        return;
      case 'bye':
        this.tabs.delete(note.from);
        this.leader?.leave();
        if (note.from === this.leaderId) {
          // Until the next leader speaks, the stream is being re-made.
          this.leaderId = undefined;
          this.leaderState = undefined;
          this.handingOver = true;
          this.showState();
        }
        return;
      case 'roll-call':
        this.leaderId = note.from;
        this.say({ type: 'hello', from: this.tabId, wall: this.wall, cursor: this.cursor });
        return;
      case 'welcome':
        if (note.to === this.tabId) this.welcome(note.entries);
        return;
      case 'presence':
        this.presence(note.presence);
        return;
      case 'event':
        // A leader's stream is its own position; events from the one before it are only merged.
        if (this.leader === undefined) {
          this.leaderId = note.from;
          this.learn(note.position);
        }
        this.deliver(note.entry);
        return;
      case 'state':
        if (this.leader !== undefined) return;
        this.leaderId = note.from;
        this.handingOver = false;
        this.leaderState = { state: note.state, walls: note.walls };
        this.learn(note.position);
        this.showState();
        return;
    }
  }

  /** @param {Presence} presence */
  presence(presence) {
    if (presence?.wall === this.wall) this.options.onPresence?.(presence);
  }

  /** @param {Position} position */
  learn(position) {
    for (const [wall, cursor] of Object.entries(position)) this.position.set(wall, cursor);
  }

  /**
   * An event of the stream: this tab keeps its own wall's, in order, once
   * its page holds everything before them.
   * @param {Entry} entry
   */
  deliver(entry) {
    if (entry.wall !== this.wall) return;
    if (!this.synced) {
      this.held.push(entry);
      return;
    }
    this.apply(entry);
  }

  /** @param {Entry} entry */
  apply(entry) {
    this.cursor = entry.cursor;
    this.options.onEvent(entry.event);
  }

  /**
   * The leader's answer to this tab's hello: the events after its cursor,
   * or null when the leader does not have them (then the history has).
   * @param {Entry[] | null} entries
   */
  welcome(entries) {
    if (this.synced || this.catchingUp) return;
    if (entries === null) {
      void this.catchUp();
      return;
    }
    for (const entry of entries) this.apply(entry);
    this.becomeSynced();
  }

  /** Reads what this tab's page lacks from the history, then takes the events held meanwhile. */
  async catchUp() {
    this.catchingUp = true;
    while (!this.closed) {
      try {
        const page = await this.options.client.history(this.wall, { after: this.cursor, limit: CATCH_UP_PAGE_SIZE });
        for (const message of page.messages)
          this.apply({ wall: this.wall, cursor: message.cursor, event: { kind: 'message', message } });
        this.cursor = page.cursor;
        if (page.messages.length < CATCH_UP_PAGE_SIZE || page.reset) break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, CATCH_UP_RETRY_MS));
      }
    }
    this.catchingUp = false;
    this.becomeSynced();
  }

  becomeSynced() {
    this.synced = true;
    // Held events may repeat what the welcome or the history brought: the page merges by id.
    const held = this.held;
    this.held = [];
    for (const entry of held) this.apply(entry);
    this.showState();
  }

  /** The badge: the shared stream's state, as it is for this tab's wall. */
  showState() {
    this.options.onState(this.state());
  }

  /** @returns {TabState} */
  state() {
    if (!navigator.onLine) return 'offline';
    const stream = this.leader !== undefined ? this.leader.report() : this.leaderState;
    if (stream === undefined) return this.handingOver ? 'reconnecting' : 'connecting';
    if (stream.state !== 'live') return stream.state;
    // Live for this tab once its wall is in the open stream and its page has caught up.
    return stream.walls.includes(this.wall) && this.synced ? 'live' : 'connecting';
  }
}

/** The tab that holds the stream: follows the walls of every tab, and tells every tab what it gets. */
class Leader {
  tab;
  /** @type {Subscription | undefined} */
  subscription;
  /** The walls the stream follows, or will once a reopen is done. @type {Set<string>} */
  walls = new Set();
  /** Recent events of each wall, oldest first, to welcome a tab. @type {Map<string, Entry[]>} */
  recent = new Map();
  /** The last presence of each wall, for a tab that opens after it came. @type {Map<string, Presence>} */
  presence = new Map();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  reopenTimer;

  /** @param {TabStream} tab */
  constructor(tab) {
    this.tab = tab;
  }

  /**
   * Opens the stream of every tab's wall: from the position the last leader
   * reached (heard with its events), and a wall it did not follow yet from
   * where a tab showing it stands.
   */
  begin() {
    const tab = this.tab;
    this.walls = new Set([tab.wall, ...this.wantedWalls()].slice(0, MAX_STREAM_WALLS));
    const position = tab.position;
    for (const wall of [...position.keys()]) if (!this.walls.has(wall)) position.delete(wall);
    for (const { wall, cursor } of tab.tabs.values()) if (!position.has(wall)) position.set(wall, cursor);
    this.subscription = tab.options.client.subscribe([...this.walls].sort(), this.handlers(), {
      position: Object.fromEntries(position),
      presence: tab.options.presence ?? 'count',
      clientId: browserClientId(),
    });
    // Tabs that opened while there was no leader, or whose welcome was lost with the last one, say hello again.
    tab.say({ type: 'roll-call', from: tab.tabId });
    this.join(tab.tabId, tab.wall, tab.cursor);
    this.announce();
  }

  /** @returns {import('./wallcast-client.js').StreamHandlers} */
  handlers() {
    return {
      onMessage: (message, position) =>
        this.record({ wall: message.wall, cursor: message.cursor, event: { kind: 'message', message } }, position),
      onDelete: ({ id, wall }, position) => {
        const cursor = wall === undefined ? undefined : position[wall];
        if (wall === undefined || cursor === undefined) return;
        this.record({ wall, cursor, event: { kind: 'delete', id } }, position);
      },
      onReset: ({ reason, wall }, position) => {
        const cursor = wall === undefined ? undefined : position[wall];
        if (wall === undefined || cursor === undefined) return;
        // What came before a reset cannot be resumed from: a tab at such a cursor reads the history.
        this.recent.set(wall, []);
        this.record({ wall, cursor, event: { kind: 'reset', reason } }, position);
      },
      onState: () => this.announce(),
      onPresence: (presence) => {
        if (typeof presence?.wall !== 'string' || !this.walls.has(presence.wall)) return;
        this.presence.set(presence.wall, presence);
        this.tab.say({ type: 'presence', from: this.tab.tabId, presence });
        this.tab.presence(presence);
      },
    };
  }

  /** @returns {{state: StreamState, walls: string[]}} */
  report() {
    const subscription = this.subscription;
    return subscription === undefined
      ? { state: /** @type {StreamState} */ ('connecting'), walls: [] }
      : { state: subscription.state, walls: subscription.liveWalls };
  }

  /** Tells every tab the stream's state (each shows it for its own wall). */
  announce() {
    const { state, walls } = this.report();
    this.tab.say({
      type: 'state',
      from: this.tab.tabId,
      state,
      walls,
      position: Object.fromEntries(this.tab.position),
    });
    this.tab.showState();
  }

  /**
   * An event of the stream: kept for welcomes, sent to every tab, and to this one.
   * @param {Entry} entry
   * @param {Position} position
   */
  record(entry, position) {
    this.tab.learn(position);
    let recent = this.recent.get(entry.wall);
    if (recent === undefined) this.recent.set(entry.wall, (recent = []));
    recent.push(entry);
    if (recent.length > RECENT_EVENTS_PER_WALL) recent.shift();
    this.tab.say({ type: 'event', from: this.tab.tabId, entry, position });
    this.tab.deliver(entry);
  }

  /**
   * A tab showing `wall` from `cursor`. A wall new to the stream joins it
   * at that cursor; otherwise the tab gets what it lacks.
   * @param {string} from
   * @param {string} wall
   * @param {string} cursor
   */
  join(from, wall, cursor) {
    /** @type {Entry[] | null} */
    let entries;
    if (!this.walls.has(wall)) {
      if (this.walls.size >= MAX_STREAM_WALLS) return;
      this.walls.add(wall);
      this.tab.position.set(wall, cursor);
      this.scheduleReopen();
      // The reopened stream resumes this wall from the tab's own cursor: every event after it comes.
      entries = [];
    } else {
      entries = this.eventsAfter(wall, cursor);
    }
    const presence = this.presence.get(wall);
    if (from === this.tab.tabId) {
      this.tab.welcome(entries);
      if (presence !== undefined) this.tab.presence(presence);
      return;
    }
    this.tab.say({ type: 'welcome', from: this.tab.tabId, to: from, entries });
    if (presence !== undefined) this.tab.say({ type: 'presence', from: this.tab.tabId, presence });
    // The new tab has not heard the stream's state yet.
    this.announce();
  }

  /** A tab left: a wall no tab shows any more leaves the stream, and makes room for one that did not fit. */
  leave() {
    const wanted = this.wantedWalls();
    let changed = false;
    for (const wall of this.walls) {
      if (wanted.has(wall)) continue;
      this.walls.delete(wall);
      this.tab.position.delete(wall);
      this.recent.delete(wall);
      this.presence.delete(wall);
      changed = true;
    }
    if (!changed) return;
    this.scheduleReopen();
    for (const [tabId, { wall, cursor }] of this.tab.tabs) if (!this.walls.has(wall)) this.join(tabId, wall, cursor);
  }

  /**
   * The events of `wall` after `cursor`: none when the stream stands there,
   * null when the leader does not have that cursor (too old, or newer than
   * the stream: the history answers both).
   * @param {string} wall
   * @param {string} cursor
   * @returns {Entry[] | null}
   */
  eventsAfter(wall, cursor) {
    if (this.tab.position.get(wall) === cursor) return [];
    const recent = this.recent.get(wall) ?? [];
    const at = recent.findIndex((entry) => entry.cursor === cursor);
    return at === -1 ? null : recent.slice(at + 1);
  }

  /** @returns {Set<string>} */
  wantedWalls() {
    return new Set([...this.tab.tabs.values()].map((tab) => tab.wall));
  }

  scheduleReopen() {
    clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => {
      // Walls it keeps resume from the position the subscription holds; new ones from their tab's cursor.
      this.subscription?.update([...this.walls].sort(), Object.fromEntries(this.tab.position));
      this.announce();
    }, REOPEN_DEBOUNCE_MS);
  }

  stop() {
    clearTimeout(this.reopenTimer);
    this.subscription?.close();
  }
}

/**
 * This browser's id for presence: made once, kept in localStorage, the same
 * in every tab; undefined where storage is refused (each stream then counts once).
 * @returns {string | undefined}
 */
function browserClientId() {
  try {
    const known = localStorage.getItem(CLIENT_ID_KEY);
    if (known !== null && CLIENT_ID.test(known)) return known;
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
    localStorage.setItem(CLIENT_ID_KEY, id);
    return id;
  } catch {
    return undefined;
  }
}

/** @returns {string} */
function newTabId() {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}
