// Takes the screenshots in docs/img/ui-<page>.png (1280x800) with realistic demo data: three
// input sets made with ffmpeg, prompts and runs made with the CLI and worked by a real
// `cosmos serve` on the emulator (one host that fails with an emulated out-of-memory, so a
// failed run shows too), then a paused queue with waiting jobs.
// Run: COSMOS_BIN=build/cosmos COSMOS_EMULATOR_BIN=build/cosmos-emulator node tests/e2e/screenshots.mjs [OUT_DIR]

import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Home, SOURCE_DIR, launchBrowser } from './harness.mjs';

const OUT = process.argv[2] || join(SOURCE_DIR, 'docs', 'img');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitRuns(home, ids, timeoutMs = 90_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const shown = ids.map((id) => home.cli('show', id, '--json'));
    if (shown.every((r) => ['succeeded', 'failed', 'cancelled'].includes(r.status))) return shown;
    await sleep(300);
  }
  throw new Error(`runs did not finish: ${ids}`);
}

// Shows a frame of every <video> on the page (at `t` seconds) before a screenshot.
async function settleVideos(page, t = 0.6) {
  await page.evaluate(async (at) => {
    const videos = [...document.querySelectorAll('video')];
    await Promise.all(videos.map((v) => new Promise((resolve) => {
      const seek = () => {
        v.pause();
        v.controls = false; // a still frame, without the player's bar or spinner
        v.addEventListener('seeked', resolve, { once: true });
        v.currentTime = Math.min(at, (v.duration || 1) - 0.05);
      };
      if (v.readyState >= 1) seek();
      else v.addEventListener('loadedmetadata', seek, { once: true });
      setTimeout(resolve, 4000);
    })));
  }, t);
  await page.waitForFunction(() => [...document.querySelectorAll('video')].every((v) => v.readyState >= 2 && !v.seeking), null, { timeout: 8000 }).catch(() => {});
  await page.waitForTimeout(300);
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const home = new Home({
    timeScale: '0.01',
    extraHosts: { 'gpu-b': { COSMOS_EMULATOR_FAIL: 'oom' }, 'gpu-slow': { COSMOS_EMULATOR_TIME_SCALE: '0.5' } },
  });
  const sets = {
    harbour: home.inputSet('harbour_sh010', { source: 'mandelbrot' }),
    street: home.inputSet('street_sh020', { source: 'testsrc2' }),
    forest: home.inputSet('forest_sh030', { source: 'gradients=speed=0.02:c0=0x1d3b2a:c1=0x9fc7a0:c2=0x2e5e8c' }),
  };
  const prompts = [
    home.cli('create', 'prompt', 'A fishing harbour at dawn, thick fog rolling over the water, photoreal, 35mm', sets.harbour, '--name', 'harbour-dawn', '--json'),
    home.cli('create', 'prompt', 'The same harbour at night in heavy rain, neon signs reflected on wet stone', sets.harbour, '--name', 'harbour-night-rain', '--json'),
    home.cli('create', 'prompt', 'A busy city street at golden hour, people crossing, warm backlight', sets.street, '--name', 'street-golden-hour', '--json'),
    home.cli('create', 'prompt', 'A dense pine forest in winter, snow falling, soft overcast light', sets.forest, '--name', 'forest-snow', '--json'),
  ];
  const url = await home.serve();
  const queue = (pid, ...args) => home.cli('inference', pid, '--queue', ...args, '--json')[0].run;
  const done = [
    queue(prompts[0].id, '--weight', 'depth=0.6', '--weight', 'seg=0.3', '--host', 'local'),
    queue(prompts[1].id, '--weight', 'depth=0.5', '--weight', 'edge=0.2', '--seed', '7', '--host', 'local'),
    queue(prompts[2].id, '--weight', 'vis=0.3', '--weight', 'seg=0.5', '--host', 'local'),
    queue(prompts[3].id, '--weight', 'depth=0.8', '--host', 'local'),
    queue(prompts[1].id, '--weight', 'depth=0.7', '--seed', '42', '--host', 'local'),
    queue(prompts[2].id, '--weight', 'depth=0.4', '--num-gpus', '2', '--host', 'gpu-b'),
  ];
  const finished = await waitRuns(home, done);
  const ok = finished.filter((r) => r.status === 'succeeded');
  home.cli('queue', 'pause');
  queue(prompts[3].id, '--weight', 'seg=0.6', '--steps', '50');
  queue(prompts[0].id, '--weight', 'depth=0.3', '--weight', 'edge=0.3', '--priority', '5');
  const slow = queue(prompts[2].id, '--weight', 'vis=0.5', '--host', 'gpu-slow', '--num-gpus', '2');

  const browser = await launchBrowser({ viewport: { width: 1280, height: 800 } });
  const page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  const shots = [];
  const shot = async (name) => {
    const file = join(OUT, `ui-${name}.png`);
    await page.mouse.move(1279, 799); // no hover state, no video controls
    await page.screenshot({ path: file });
    shots.push(file);
  };
  try {
    await page.goto(`${url}/inputs`);
    await page.locator('.tiles').first().waitFor();
    await settleVideos(page, 0.5);
    await shot('inputs');

    await page.goto(`${url}/prompts`);
    await page.locator('tbody tr').first().waitFor();
    await shot('prompts');

    await page.goto(`${url}/runs`);
    await page.locator('tbody tr').first().waitFor();
    await shot('runs');

    const star = ok[1] || ok[0];
    await page.goto(`${url}/runs/${star.id}`);
    await page.locator('video.player').waitFor();
    await page.waitForFunction(() => document.getElementById('run-log').textContent.length > 100);
    await settleVideos(page, 0.6);
    await shot('run');

    await page.getByRole('button', { name: 'Run again with changes' }).click();
    await page.getByLabel('depth', { exact: true }).fill('0.35');
    await page.waitForFunction(() => document.getElementById('rr-spec').textContent.includes('0.35'));
    await page.locator('#rerun').scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollTo(0, document.getElementById('rerun').offsetTop - 60));
    await shot('rerun');

    await page.goto(`${url}/queue`);
    await page.locator('tbody tr').first().waitFor();
    await shot('queue');

    await page.goto(`${url}/gallery`);
    await page.locator('li.gallery-item').first().waitFor();
    await settleVideos(page, 0.6);
    await shot('gallery');

    await page.goto(`${url}/gallery/${star.id}`);
    await page.locator('#cmp-output').waitFor();
    await settleVideos(page, 0.6);
    await shot('compare');

    // Hosts while a run holds both GPUs of gpu-slow (the probe refreshes every 10 s).
    home.cli('queue', 'resume');
    for (let i = 0; i < 100 && home.cli('show', slow, '--json').status !== 'running'; i++) await sleep(200);
    await page.goto(`${url}/hosts`);
    await page.waitForFunction((id) => document.querySelector(`li.host[data-host="gpu-slow"]`)?.textContent.includes(id)
      && document.querySelector('li.host[data-host="gpu-slow"] .gpu')?.textContent.includes('100%'), slow, { timeout: 25_000 }).catch(() => {});
    await page.locator('li.host').first().waitFor();
    await shot('hosts');
  } finally {
    await browser.close();
    await home.stop();
  }
  // Smaller files: a 256-colour palette PNG made by the ffmpeg CLI, kept when it is smaller.
  for (const f of shots) {
    const tmp = `${f}.palette.png`;
    try {
      execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', f, '-vf',
        'split[a][b];[a]palettegen=max_colors=256:stats_mode=full[p];[b][p]paletteuse=dither=sierra2_4a', tmp]);
      if (statSync(tmp).size < statSync(f).size) renameSync(tmp, f);
    } finally {
      rmSync(tmp, { force: true });
    }
    console.log(`${f} ${statSync(f).size} bytes`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
