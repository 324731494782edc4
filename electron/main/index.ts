// Composition root of the Electron main process; the shell owns everything that touches `electron`.
import { runElectronApp } from './shell/app';

runElectronApp();
