// End-to-end test of the web UI in Debian's Chromium (playwright-core): against a real
// `cosmos serve --port 0` whose worker runs the emulator on the local host, it creates a prompt
// in the Prompts page, launches a run, watches the run page's log grow live (SSE, no reload)
// and its status turn `succeeded`, rates it (stars) and filters the runs list and the gallery by
// rating, plays the output in the gallery and in the synchronized
// input/output view, pauses the queue, re-runs with a changed control weight from the rerun
// form, and cancels the new run in the Queue page.
// Run: COSMOS_BIN=build/cosmos COSMOS_EMULATOR_BIN=build/cosmos-emulator node tests/e2e/ui.test.mjs
// (tests/integration/test_web_ui.py runs it under ctest).

import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { Home, launchBrowser } from './harness.mjs';

const STEP_TIMEOUT = 30_000;

function step(name) {
  console.log(`# ${new Date().toISOString().slice(11, 23)} ${name}`);
}

test('web UI: prompt → run → live log → gallery → rerun with changed weights → queue', { timeout: 120_000 }, async () => {
  step('setup: emulator, input videos, cosmos serve');
  const home = new Home({ timeScale: '0.03' });
  const inputDir = home.inputSet('shot010');
  const url = await home.serve();
  const browser = await launchBrowser();
  const page = await browser.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // Script errors fail the test; HTTP errors the test provokes (a 404 answer) do not.
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource')
    && problems.push(`console: ${m.text()}`));
  const api = (path) => page.evaluate(async (p) => (await fetch(p)).json(), path);
  try {
    step(`create a prompt in the UI (${url})`);
    await page.goto(`${url}/prompts`);
    await page.evaluate(() => { window.__noReload = true; });
    await page.getByText('New prompt').click();
    await page.getByLabel('Prompt', { exact: true }).fill('A rainy harbour at dusk, neon on wet stone');
    // A folder that does not exist: the server's message shows under the form.
    await page.getByLabel('Input folder').fill(`${inputDir}-missing`);
    await page.getByRole('button', { name: 'Create prompt' }).click();
    const formError = page.locator('form .error[role=alert]');
    await formError.waitFor();
    assert.match(await formError.innerText(), /Could not create the prompt: .*missing/s);
    await page.getByLabel('Input folder').fill(inputDir);
    await page.getByLabel('Name (optional)').fill('harbour-e2e');
    await page.getByRole('button', { name: 'Create prompt' }).click();
    const row = page.locator('tbody tr', { hasText: 'harbour-e2e' });
    await row.waitFor();
    const promptId = await row.getAttribute('data-id');
    assert.match(promptId, /^\w+/);

    step('launch a run from the prompt row');
    await row.getByRole('button', { name: 'Run', exact: true }).click();
    await page.waitForURL(/\/runs\/[^/?]+$/);
    const runId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
    const run0 = await api(`/api/runs/${runId}`);
    assert.equal(run0.prompt_id, promptId);

    step(`watch ${runId}: the log grows while the run runs, then the status turns succeeded`);
    const log = page.locator('#run-log');
    const seen = []; // distinct non-empty log lengths seen while the run was not finished
    const deadline = Date.now() + 60_000;
    let status = '';
    while (Date.now() < deadline) {
      const [s, text] = await page.evaluate(() => [document.querySelector('.run-page')?.dataset.status || '',
        document.getElementById('run-log')?.textContent || '']);
      status = s;
      if (status === 'succeeded' || status === 'failed' || status === 'cancelled') break;
      if (status === 'running' && text.length && text !== 'No output yet.' && !seen.includes(text.length)) seen.push(text.length);
      await page.waitForTimeout(50);
    }
    assert.equal(status, 'succeeded', `run ended ${status}; server log:\n${home.serverLog}`);
    // Live: log text reached the page while the run was running, and more arrived after it, without
    // a reload. (The emulator prints its start-up lines at once and the rest when the chunk ends, so
    // on a loaded machine the first burst may arrive as one event: one length seen while running.)
    // Live means it grew in place: two lengths seen while running, or one and more after it (the
    // model's last lines may arrive while its outputs are collected, still "running").
    assert.ok(seen.length >= 1, 'no log reached the page while the run was running');
    if (seen.length < 2) {
      await page.waitForFunction((n) => (document.getElementById('run-log')?.textContent || '').length > n,
        Math.max(...seen), { timeout: 10_000 }).catch(() => {
        assert.fail(`the log did not grow after the lengths seen while the run was running (${seen})`);
      });
    }
    await page.locator('.run-status .badge', { hasText: 'succeeded' }).waitFor();
    assert.equal(await page.evaluate(() => window.__noReload), true, 'the page reloaded');
    // Everything the model wrote arrived, in order, once: the page's log is the file.
    await page.waitForFunction(async (id) => {
      const file = await (await fetch(`/api/runs/${id}/log`)).text();
      return document.getElementById('run-log').textContent === file;
    }, runId, { timeout: 10_000 }).catch(async () => {
      const [shown, file] = await page.evaluate(async (id) => [document.getElementById('run-log').textContent,
        await (await fetch(`/api/runs/${id}/log`)).text()], runId);
      assert.equal(shown, file, 'the streamed log differs from run.log');
    });
    assert.match(await log.textContent(), /Saved video to/);
    // The output plays on the run page.
    await page.locator('video.player').waitFor();

    step('rate the run 4 stars on its page; the runs list and the gallery filter by rating');
    const rating = page.locator('#run-rating');
    await rating.getByRole('button', { name: '4 stars' }).click();
    await page.locator('#run-rating[data-rating="4"]').waitFor();
    assert.equal((await api(`/api/runs/${runId}`)).rating, 4);
    assert.equal(await rating.getByRole('button', { name: '4 stars' }).getAttribute('aria-pressed'), 'true');
    assert.equal(await rating.locator('.star.on').count(), 4);
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    const ratedRow = page.locator(`tbody tr[data-id="${runId}"]`);
    await ratedRow.locator('.stars[data-rating="4"]').waitFor();
    await page.getByLabel('Rating').selectOption('5');
    await page.locator('p.empty', { hasText: 'No runs match' }).waitFor();
    assert.match(page.url(), /[?&]min_rating=5\b/);
    await page.getByLabel('Rating').selectOption('4');
    await ratedRow.waitFor();
    assert.match(page.url(), /[?&]min_rating=4\b/);
    await page.goto(`${url}/gallery?min_rating=5`);
    await page.locator('p.empty', { hasText: 'No outputs rated that well' }).waitFor();
    await page.getByLabel('Rating').selectOption('4');
    await page.locator(`li.gallery-item[data-run="${runId}"] .stars[data-rating="4"]`).waitFor();
    // Clearing on the run page takes it out of the rated runs.
    await page.goto(`${url}/runs/${runId}`);
    await page.getByRole('button', { name: 'Clear the rating' }).click();
    await page.locator('#run-rating[data-rating=""]').waitFor();
    assert.equal((await api(`/api/runs/${runId}`)).rating, null);
    assert.equal((await api('/api/runs?min_rating=1')).total, 0);

    step('the run page and the Hosts page chart the GPU it held');
    const shown = await api(`/api/runs/${runId}`);
    assert.deepEqual(shown.gpu.ids, [0]);
    const gpuCard = page.locator('section', { has: page.locator('#h-gpu') });
    await gpuCard.locator('td', { hasText: /^0$/ }).waitFor();
    const runHistory = await api(shown.gpu_history_url);
    const sampled = runHistory.gpus.some((g) => g.points.length > 0);
    // Samples drawn as one line per GPU; none: the note says so instead of an empty chart.
    await gpuCard.locator(sampled ? 'svg.gpu-chart path.series[data-gpu="0"]' : 'p.gpu-chart-empty').waitFor();
    await page.getByRole('link', { name: 'Hosts', exact: true }).click();
    const hostChart = page.locator('.host-chart[data-host="local"]');
    await hostChart.locator('svg.gpu-chart, p.gpu-chart-empty').first().waitFor();
    const hostHistory = await api('/api/hosts/local/gpu?minutes=60&points=120');
    assert.equal(await hostChart.locator('svg.gpu-chart path.series').count(),
      hostHistory.gpus.filter((g) => g.points.length).length);

    step('the output plays in the gallery');
    await page.getByRole('link', { name: 'Gallery', exact: true }).click();
    const card = page.locator(`li.gallery-item[data-run="${runId}"]`);
    await card.waitFor();
    const cardVideo = card.locator('video');
    await cardVideo.evaluate((v) => v.play());
    await page.waitForFunction((v) => v.readyState >= 3 && v.currentTime > 0.2, await cardVideo.elementHandle());
    await cardVideo.evaluate((v) => v.pause());

    step('side by side: input and output play, pause and seek together');
    await card.locator('a.thumb').click();
    await page.waitForURL(new RegExp(`/gallery/${runId}$`));
    const vin = page.locator('#cmp-input');
    const vout = page.locator('#cmp-output');
    await page.waitForFunction(() => ['cmp-input', 'cmp-output'].every((id) => document.getElementById(id)?.readyState >= 2));
    await page.getByRole('button', { name: 'Play both' }).click();
    await page.waitForFunction(() => ['cmp-input', 'cmp-output'].every((id) => {
      const v = document.getElementById(id);
      return !v.paused && v.currentTime > 0.2;
    }));
    const t1 = await vout.evaluate((v) => v.currentTime);
    await page.waitForTimeout(300);
    assert.ok(await vout.evaluate((v) => v.currentTime) !== t1, 'output currentTime does not advance');
    // Pausing the input pauses the output; seeking the input moves the output.
    await vin.evaluate((v) => v.pause());
    await page.waitForFunction(() => document.getElementById('cmp-output').paused);
    await vin.evaluate((v) => { v.currentTime = 0.5; });
    await page.waitForFunction(() => Math.abs(document.getElementById('cmp-output').currentTime - 0.5) < 0.06);
    // And the other way round: playing the output starts the input.
    await vout.evaluate((v) => v.play());
    await page.waitForFunction(() => !document.getElementById('cmp-input').paused);
    await vout.evaluate((v) => v.pause());

    step('pause the queue on the Queue page');
    await page.getByRole('link', { name: /^Queue/ }).click();
    await page.getByRole('button', { name: 'Pause queue' }).click();
    await page.locator('.queue-state', { hasText: 'paused' }).waitFor();
    assert.equal((await api('/api/queue')).paused, true);

    step('run again with a changed depth weight');
    await page.goto(`${url}/runs/${runId}`);
    await page.getByRole('button', { name: 'Run again with changes' }).click();
    const depth = page.getByLabel('depth', { exact: true });
    const before = Number(await depth.inputValue());
    const wanted = before === 0.35 ? 0.45 : 0.35;
    await depth.fill(String(wanted));
    await page.getByLabel('Steps', { exact: true }).fill('12');
    await page.getByLabel('GPUs', { exact: true }).selectOption('2');
    // The preview shows the spec with the new weight before anything is sent.
    await page.waitForFunction((w) => {
      try {
        return JSON.parse(document.getElementById('rr-spec').textContent).depth?.control_weight === w;
      } catch {
        return false;
      }
    }, wanted);
    // ... and the command line the host would run, on 2 GPUs.
    await page.waitForFunction(() => /--nproc_per_node=2 .*--num_gpus 2\b/.test(document.querySelector('pre.command').textContent));
    await page.getByRole('button', { name: 'Queue the new run' }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/runs/') && !u.pathname.endsWith(`/${runId}`));
    const newId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
    const rerun = await api(`/api/runs/${newId}`);
    assert.equal(rerun.params.weights.depth, wanted);
    assert.equal(rerun.params.num_steps, 12);
    assert.equal(rerun.params.num_gpus, 2);
    assert.equal(rerun.prompt_id, promptId);
    assert.equal(rerun.spec?.depth?.control_weight ?? wanted, wanted);
    await page.locator('.run-page h1', { hasText: newId }).waitFor();
    assert.equal(rerun.parent_run_id, runId);

    step('the new run waits in the paused queue; cancel it there');
    await page.getByRole('link', { name: /^Queue/ }).click();
    const queued = page.locator(`tr[data-run="${newId}"]`);
    await queued.waitFor();
    assert.equal(await queued.getAttribute('data-state'), 'queued');
    page.once('dialog', (d) => d.accept());
    await queued.getByRole('button', { name: `Cancel ${newId}` }).click();
    // It leaves the waiting jobs (for the folded list of finished ones).
    await page.locator(`tr[data-run="${newId}"][data-state="cancelled"]`).waitFor({ state: 'attached' });
    await page.locator(`tr[data-run="${newId}"][data-state="queued"]`).waitFor({ state: 'detached' });
    assert.equal((await api(`/api/runs/${newId}`)).status, 'cancelled');
    await page.getByRole('button', { name: 'Resume queue' }).click();
    await page.locator('.queue-state', { hasText: 'working' }).waitFor();

    assert.deepEqual(problems, [], 'errors in the browser console');
    step('done');
  } catch (e) {
    // What the page showed: a screenshot and its text, the console, the server's log.
    const shot = join(tmpdir(), `cosmos-e2e-failure-${process.pid}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    const text = await page.locator('main').innerText().catch(() => '');
    console.log(`# failed at ${page.url()}\n# screenshot: ${shot}\n# page text:\n${text.slice(0, 3000)}`
      + `\n# browser problems: ${problems.join('\n')}\n# server log:\n${home.serverLog.slice(-4000)}`);
    throw e;
  } finally {
    await browser.close();
    await home.stop();
  }
});
