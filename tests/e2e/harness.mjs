// Shared setup of the web UI's browser tests and screenshots: a temporary cosmos home (data
// dir, config with one local host running the installed emulator, input videos made by the
// real ffmpeg CLI), a real `cosmos serve --port 0` working the queue and serving the UI, and
// Debian's Chromium driven by playwright-core (no browser download).
//
// Environment: COSMOS_BIN and COSMOS_EMULATOR_BIN (the built binaries; ctest sets them),
// CHROMIUM (default /usr/bin/chromium), COSMOS_E2E_KEEP=1 keeps the temp dir,
// COSMOS_UI_ASSETS=DIR serves web/ from disk (page development without a rebuild).

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const SOURCE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function need(name) {
  const v = process.env[name];
  if (!v || !existsSync(v)) throw new Error(`${name} is not set to a built binary (run through ctest, or set it)`);
  return resolve(v); // the server runs in another directory
}

// Writes a small H.264 video with the ffmpeg CLI (like tests/integration/conftest.py).
export function makeVideo(path, { frames = 25, size = '320x176', fps = 24, source = 'testsrc2', gray = false } = {}) {
  mkdirSync(dirname(path), { recursive: true });
  const vf = gray ? ['-vf', 'format=gray,format=yuv420p'] : ['-pix_fmt', 'yuv420p'];
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `${source}${source.includes('=') ? ':' : '='}size=${size}:rate=${fps}`,
    '-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'ultrafast', ...vf, path]);
  return path;
}

// A 3-pass input folder: color, depth, segmentation.
export function makeInputSet(dir, { frames = 25, source = 'testsrc2' } = {}) {
  makeVideo(join(dir, 'color.mp4'), { frames, source });
  makeVideo(join(dir, 'depth.mp4'), { frames, source: 'gradients', gray: true });
  makeVideo(join(dir, 'segmentation.mp4'), { frames, source: 'smptebars' });
  return dir;
}

export class Home {
  // timeScale: the emulator's COSMOS_EMULATOR_TIME_SCALE (a run of 35 steps takes ~5 s at 0.03).
  // extraHosts: more local hosts on the same emulator, name -> extra emulator env.
  constructor({ timeScale = '0.03', emulatorEnv = {}, extraHosts = {} } = {}) {
    this.bin = need('COSMOS_BIN');
    this.emulatorBin = need('COSMOS_EMULATOR_BIN');
    this.root = mkdtempSync(join(tmpdir(), 'cosmos-e2e-'));
    this.home = join(this.root, 'home');
    mkdirSync(this.home, { recursive: true });
    this.dataDir = join(this.root, 'data');
    this.env = {
      PATH: process.env.PATH || '/usr/bin:/bin',
      HOME: this.home,
      XDG_CONFIG_HOME: join(this.home, '.config'),
      XDG_DATA_HOME: join(this.home, '.local/share'),
      COSMOS_DATA_DIR: this.dataDir,
      COSMOS_EMULATOR_BIN: this.emulatorBin,
      NO_COLOR: '1',
    };
    if (process.env.COSMOS_UI_ASSETS) this.env.COSMOS_UI_ASSETS = process.env.COSMOS_UI_ASSETS;
    const emu = join(this.root, 'cosmos-checkout');
    this.cli('emulator', 'install', emu);
    const host = (name, extra) => {
      const env = { COSMOS_EMULATOR_TIME_SCALE: timeScale, COSMOS_EMULATOR_STRICT: '1', COSMOS_EMULATOR_GPUS: '2', ...emulatorEnv, ...extra };
      const envToml = Object.entries(env).map(([k, v]) => `${k} = "${v}"`).join(', ');
      return `[hosts.${name}]\nkind = "local"\ngpus = 2\ncosmos_dir = "${emu}"\ngpu_sample_every = 1\n`
        + `torchrun = "${emu}/bin/torchrun"\nenv = { ${envToml} }\n`;
    };
    this.config = join(this.root, 'cosmos.toml');
    // Each extra host is its own machine: its own emulated GPU locks.
    const extras = Object.entries(extraHosts).map(([n, e]) => host(n, { COSMOS_EMULATOR_GPU_DIR: join(this.root, `gpus-${n}`), ...e }));
    writeFileSync(this.config, [host('local', {}), ...extras].join('\n'));
    this.server = null;
  }

  // Runs the cosmos CLI; with --json returns the parsed output.
  cli(...args) {
    const out = execFileSync(this.bin, [...(this.config ? ['--config', this.config] : []), ...args],
      { env: this.env, cwd: this.root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return args.includes('--json') ? JSON.parse(out) : out;
  }

  inputSet(name, opts) {
    return makeInputSet(join(this.root, 'inputs', name), opts);
  }

  // Starts `cosmos serve --port 0` and resolves with the URL it prints once it listens.
  serve(extra = []) {
    const args = ['--config', this.config, 'serve', '--port', '0', '--poll', '0.2', ...extra];
    const proc = spawn(this.bin, args, { env: this.env, cwd: this.root, stdio: ['ignore', 'pipe', 'pipe'] });
    this.server = proc;
    this.serverLog = '';
    return new Promise((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`cosmos serve did not listen within 20 s:\n${this.serverLog}`)), 20000);
      const onData = (chunk) => {
        this.serverLog += chunk.toString();
        const m = this.serverLog.match(/listening on (http:\/\/\S+?)\/?(\s|$)/);
        if (m && !this.url) {
          clearTimeout(timer);
          this.url = m[1].replace(/\/$/, '');
          resolveUrl(this.url);
        }
      };
      proc.stderr.on('data', onData);
      proc.stdout.on('data', onData);
      proc.on('exit', (code) => {
        clearTimeout(timer);
        if (!this.url) reject(new Error(`cosmos serve exited ${code}:\n${this.serverLog}`));
      });
    });
  }

  async stop() {
    if (this.server && this.server.exitCode === null) {
      const exited = new Promise((r) => this.server.once('exit', r));
      this.server.kill('SIGTERM');
      const t = setTimeout(() => this.server.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    if (process.env.COSMOS_E2E_KEEP) console.log(`kept ${this.root}`);
    else rmSync(this.root, { recursive: true, force: true });
  }
}

// A fresh profile in a temp dir for each launch; returns a BrowserContext whose close() also
// removes the profile.
export async function launchBrowser({ viewport = { width: 1280, height: 800 }, colorScheme = 'dark' } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'cosmos-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    colorScheme,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      '--autoplay-policy=no-user-gesture-required'],
  });
  const close = context.close.bind(context);
  context.close = async () => {
    await close();
    rmSync(profile, { recursive: true, force: true });
  };
  return context;
}
