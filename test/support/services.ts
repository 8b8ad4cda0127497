/**
 * The outside services some suites need (Redis, nginx, Chromium). Where one
 * is missing on a developer's machine, its suites skip with one line that
 * says what is missing; in CI (`CI` set) they run, and fail, since CI
 * installs every one of them.
 */
import { existsSync } from 'node:fs';
import { REDIS_URL, redisAnswers } from './redis.js';

export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function skipWithout(what: string, present: boolean, hint: string): boolean {
  if (present || process.env.CI) return false;
  console.warn(`skipping the ${what} tests: ${hint}`);
  return true;
}

export async function withoutRedis(): Promise<boolean> {
  return skipWithout('Redis', await redisAnswers(), `no Redis answers at ${REDIS_URL} (start one, or set REDIS_URL)`);
}

export function withoutNginx(): boolean {
  return skipWithout('nginx', existsSync(NGINX), `no nginx at ${NGINX} (apt-get install nginx, or set NGINX_PATH)`);
}

export function withoutChromium(): boolean {
  return skipWithout(
    'Chromium',
    existsSync(CHROMIUM),
    `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );
}
