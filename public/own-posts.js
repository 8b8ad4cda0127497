// @ts-check
/**
 * The posts this browser sent, so that the page marks them as the reader's
 * own on every page and after a reload (the server does not know who a
 * browser is; a token's reader is marked by the server itself). Kept in
 * localStorage, shared by the browser's tabs.
 */

const KEY = 'wallcast:own-posts';
/** Ids kept: the newest few hundred posts of one person cover any page they will look at. */
const MAX_OWN_POSTS = 500;

/** @returns {string[]} */
function load() {
  try {
    const ids = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(ids) ? ids.filter((id) => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

/** @returns {Set<string>} */
export function ownPosts() {
  return new Set(load());
}

/** @param {string} id */
export function rememberOwnPost(id) {
  const ids = load().filter((known) => known !== id);
  ids.push(id);
  try {
    localStorage.setItem(KEY, JSON.stringify(ids.slice(-MAX_OWN_POSTS)));
  } catch {
    // Storage full or refused (private mode): the post is marked on this page only.
  }
}
