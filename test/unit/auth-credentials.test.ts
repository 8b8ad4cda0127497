import { describe, expect, it } from 'vitest';
import { AuthFailure } from '../../src/auth/auth-failure.js';
import { type CredentialSources, cookieValue, readCredential } from '../../src/http/credentials.js';

const onStream = { cookieName: 'wallcast_token', ticketsAllowed: true };
const elsewhere = { cookieName: 'wallcast_token', ticketsAllowed: false };
const none: CredentialSources = { authorization: undefined, cookie: undefined };

describe('where a credential comes from', () => {
  it('reads Authorization: Bearer, the scheme in any case', () => {
    expect(readCredential({ ...none, authorization: 'Bearer abc.def.ghi' }, elsewhere)).toEqual({
      via: 'bearer',
      token: 'abc.def.ghi',
    });
    expect(readCredential({ ...none, authorization: 'bearer   abc ' }, elsewhere)).toEqual({
      via: 'bearer',
      token: 'abc',
    });
  });

  it('refuses a Bearer header without one token, and leaves other schemes alone', () => {
    for (const authorization of ['Bearer', 'Bearer ', 'Bearer a b']) {
      const error = (() => {
        try {
          readCredential({ ...none, authorization }, elsewhere);
        } catch (e) {
          return e;
        }
      })();
      expect(error, authorization).toBeInstanceOf(AuthFailure);
      expect((error as AuthFailure).reason).toBe('token_invalid');
    }
    expect(readCredential({ ...none, authorization: 'Basic dXNlcjpwYXNz' }, elsewhere)).toBeUndefined();
  });

  it('reads the token cookie by its configured name', () => {
    const cookie = 'theme=dark; wallcast_token=abc.def.ghi; other=1';
    expect(readCredential({ ...none, cookie }, elsewhere)).toEqual({ via: 'cookie', token: 'abc.def.ghi' });
    expect(readCredential({ ...none, cookie }, { ...elsewhere, cookieName: 'session' })).toBeUndefined();
    expect(cookieValue(['a=1', 'session="quoted"; session=second'], 'session')).toBe('quoted');
    expect(cookieValue('xwallcast_token=no', 'wallcast_token')).toBeUndefined();
    expect(readCredential({ ...none, cookie: 'wallcast_token=' }, elsewhere)).toBeUndefined();
  });

  it('reads ?ticket= on stream URLs only, from a record or URLSearchParams', () => {
    expect(readCredential({ ...none, query: { ticket: 'T' } }, onStream)).toEqual({ via: 'ticket', ticket: 'T' });
    expect(readCredential({ ...none, query: new URLSearchParams('walls=a&ticket=T') }, onStream)).toEqual({
      via: 'ticket',
      ticket: 'T',
    });
    expect(readCredential({ ...none, query: { ticket: 'T' } }, elsewhere)).toBeUndefined();
    expect(() => readCredential({ ...none, query: { ticket: ['T', 'U'] } }, onStream)).toThrow(AuthFailure);
  });

  it('never reads ?token= or ?access_token=', () => {
    const query = new URLSearchParams('token=abc.def.ghi&access_token=abc.def.ghi');
    expect(readCredential({ ...none, query }, onStream)).toBeUndefined();
    expect(readCredential({ ...none, query: { token: 'x', access_token: 'y' } }, elsewhere)).toBeUndefined();
  });

  it('takes the header first, then a ticket, then the cookie', () => {
    const all = { authorization: 'Bearer H', cookie: 'wallcast_token=C', query: { ticket: 'T' } };
    expect(readCredential(all, onStream)).toEqual({ via: 'bearer', token: 'H' });
    expect(readCredential({ ...all, authorization: undefined }, onStream)).toEqual({ via: 'ticket', ticket: 'T' });
    expect(readCredential({ ...all, authorization: undefined }, elsewhere)).toEqual({ via: 'cookie', token: 'C' });
  });
});
