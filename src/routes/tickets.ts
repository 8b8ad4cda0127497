/**
 * `POST /api/tickets` (issue 16): a bearer token exchanged for a ticket, for
 * an EventSource that can send neither a header nor a cookie: single use,
 * 60 s at most and never past the token, `read` of the walls it names only
 * (auth/tickets.ts). It goes as `?ticket=` on a stream URL, the one place a
 * ticket is taken.
 */
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-deps.js';
import { AuthFailure } from '../auth/auth-failure.js';
import { MAX_TICKET_WALLS } from '../auth/tickets.js';
import { ApiError } from '../errors.js';
import { readPostFields } from '../http/post-body.js';
import { credentialOf } from '../http/request-identity.js';
import { assertSameOrigin } from '../http/same-origin.js';
import { parseWall } from '../wall.js';

/** Bytes of a ticket request: 32 wall names and the JSON around them. */
const MAX_TICKET_REQUEST_BYTES = 4096;

export function ticketRoutes(deps: AppDeps): Hono<AppEnv> {
  const { auth } = deps;
  return new Hono<AppEnv>().post('/api/tickets', async (c) => {
    if (!auth.keyConfigured) {
      throw new ApiError('not_found', 'Tickets are not enabled here: no token key is set (WALLCAST_JWT_SECRET, …).');
    }
    const credential = credentialOf(c.env.incoming, deps);
    if (credential === undefined) {
      throw new AuthFailure('token_missing', 'A ticket is given for a token: send "Authorization: Bearer <token>".');
    }
    // The cookie comes with any site's request: only this site's pages may exchange it.
    if (credential.via === 'cookie')
      assertSameOrigin(c, deps.config.corsOrigins, 'Cross-site ticket requests are refused.');
    const identity = await auth.identify(credential);
    if (identity === undefined) throw new AuthFailure('token_missing', 'A ticket is given for a token.');
    const { fields } = await readPostFields(c.env.incoming, MAX_TICKET_REQUEST_BYTES);
    const walls = parseTicketWalls(fields.walls);
    const { ticket, expiresInSeconds } = await auth.issueTicket(identity, walls);
    c.header('Cache-Control', 'no-store');
    return c.json({ ticket, expiresIn: expiresInSeconds }, 201);
  });
}

function parseTicketWalls(raw: unknown): string[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_TICKET_WALLS) {
    throw new ApiError(
      'bad_request',
      `"walls" is a list of 1 to ${MAX_TICKET_WALLS} wall names, e.g. {"walls":["team-a"]}.`,
    );
  }
  return raw.map((wall) => parseWall(typeof wall === 'string' ? wall : undefined));
}
