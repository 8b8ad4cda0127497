// @ts-check
/** The error pages' script: their list of walls (the rest of an error page needs none). */
import { setUpWallSwitcher } from './wall-switcher.js';

setUpWallSwitcher();
