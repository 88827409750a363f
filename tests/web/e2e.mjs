// The web pages in a real browser: Debian's Chromium driven by playwright-core.
// A partner publishes an example plugin through the developer portal, a platform reviewer
// approves it, a tenant admin finds it by search, installs it with consent, sees its deliveries
// and charts after a task is created, and uninstalls it. Screenshots of the main pages go to
// the ignored output folder. Input: the BAZAAR_E2E environment variable (JSON, from
// tests/api/web.rs).
import { readFileSync } from 'node:fs';
import { browser, check, run, shot, signedIn } from './lib.mjs';

try {
  // 1. The partner publishes the example plugin.
  const dev = await signedIn(run.developer);
  await dev.goto('/developer');
  const manifest = readFileSync(run.manifest, 'utf8');
  await dev.getByLabel('Manifest (TOML or JSON)').fill(manifest.replace('slug = "project-stats"', 'slug = "Not A Slug"'));
  await dev.getByRole('button', { name: 'Create app' }).click();
  await dev.locator('#manifest-errors').filter({ hasText: /^slug: / }).waitFor();
  check(await dev.getByLabel('Manifest (TOML or JSON)').getAttribute('aria-invalid') === 'true', 'the editor is marked invalid');
  await dev.getByLabel('Manifest (TOML or JSON)').fill(readFileSync(run.manifest, 'utf8'));
  await dev.getByRole('button', { name: 'Create app' }).click();
  await dev.waitForURL('**/developer/apps/*');
  await dev.getByLabel('Version').fill('1.0.0');
  await dev.getByLabel('Changelog').fill('First release');
  await dev.getByLabel('Manifest', { exact: true }).fill(readFileSync(run.manifest, 'utf8'));
  await dev.getByRole('button', { name: 'Add version' }).click();
  await dev.getByRole('heading', { name: /Version 1\.0\.0/ }).waitFor();
  await dev.getByLabel(/Component/).setInputFiles(run.wasm);
  await dev.getByRole('button', { name: 'Upload component' }).click();
  await dev.getByText(/Audit: \d+ KB/).waitFor();
  await dev.getByText(/Sandbox: run this version/).click();
  await dev.getByRole('button', { name: 'Run in the sandbox' }).click();
  await dev.locator('pre[id^=sandbox-]').filter({ hasText: '"outcome": "ok"' }).waitFor();
  await dev.getByRole('button', { name: 'Submit for review' }).click();
  await dev.getByText('in_review').first().waitFor();
  await shot(dev, '1-developer-portal');
  const developerAppPath = new URL(dev.url()).pathname;

  // 2. A platform reviewer approves it.
  const reviewer = await signedIn(run.reviewer);
  await reviewer.goto('/review');
  await reviewer.getByRole('heading', { name: /Project statistics 1\.0\.0/ }).waitFor();
  await shot(reviewer, '2-review-queue');
  await reviewer.getByRole('button', { name: 'Approve' }).first().click();
  await reviewer.getByText('Nothing waits for review.').waitFor();

  // 3. A tenant admin finds it by search and installs it with consent.
  const admin = await signedIn(run.tenant);
  await admin.goto('/marketplace');
  await admin.getByLabel('Search').fill('statistics');
  await admin.getByRole('button', { name: 'Search' }).click();
  await admin.getByRole('link', { name: 'Project statistics' }).click();
  await admin.getByText('What it may do').waitFor();
  check(await admin.getByText(/Why: Keep the counts/).count() === 1, 'the purpose of a scope is shown');
  check(await admin.getByText(/bazaar:platform\/kv lets it keep data/).count() === 1, 'the WIT interface behind a scope is shown');
  await shot(admin, '3-app-page');
  await admin.getByRole('link', { name: 'Install', exact: true }).click();
  // Every scope must be consented to: the form does not go without the boxes checked.
  await admin.getByRole('button', { name: 'Install', exact: true }).click();
  check(admin.url().endsWith('/install'), 'no install without consent');
  for (const box of await admin.getByRole('checkbox').all()) await box.check();
  await admin.getByRole('button', { name: 'Install', exact: true }).click();
  await admin.waitForURL('**/installed/*');
  await shot(admin, '4-installed-app');
  const installationPath = new URL(admin.url()).pathname;

  // Pages refuse a user of another organization, and the review queue refuses non-reviewers.
  async function refused(page, path, status) {
    const res = await page.goto(path);
    check(res.status() === status, `${path} answers ${status} (got ${res.status()})`);
    check(await page.getByRole('heading', { name: 'Not available' }).count() === 1, `${path} says it is not available`);
  }
  await refused(dev, installationPath, 404);
  await refused(admin, developerAppPath, 404);
  await refused(admin, '/review', 403);
  await admin.goto(installationPath);

  // 4. A task is created (through /v1, as the product would); the delivery and charts show.
  const projectId = await admin.evaluate(async () => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const headers = { 'content-type': 'application/json', 'x-csrf-token': csrf };
    const project = await (await fetch('/v1/projects', { method: 'POST', headers, body: JSON.stringify({ name: 'Launch' }) })).json();
    const res = await fetch('/v1/tasks', { method: 'POST', headers, body: JSON.stringify({ project_id: project.id, title: 'Write the plan' }) });
    if (!res.ok) throw new Error(`creating a task: ${res.status}`);
    return project.id;
  });
  let delivered = false;
  for (let i = 0; i < 60 && !delivered; i++) {
    await admin.waitForTimeout(250);
    await admin.reload();
    delivered = (await admin.locator('#deliveries tbody tr').filter({ hasText: 'task.created' }).filter({ hasText: 'succeeded' }).count()) > 0
      && (await admin.locator('#usage svg rect').count()) > 0;
  }
  check(delivered, 'the delivery of task.created succeeded and the charts show it');
  await shot(admin, '5-deliveries-and-charts');

  // 5. The apps' UI, drawn by Bazaar: Project statistics' card on the project page...
  await admin.goto(`/projects/${projectId}`);
  const card = admin.getByRole('region', { name: 'Project statistics' });
  await card.getByText('Task counts').waitFor();
  check(await card.locator('dt', { hasText: 'Created' }).locator('xpath=following-sibling::dd[1]').innerText() === '1', 'the card counts the task');
  await shot(admin, '6-project-card');
  // ...and the Auto-labeller's panel on a task whose title carries markup and script.
  const hostileTitle = '<img src=x onerror="window.pwned=1"><b>Plan</b><script>window.pwned=1</script> fix the crash';
  const taskId = await admin.evaluate(async ([project, title]) => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const headers = { 'content-type': 'application/json', 'x-csrf-token': csrf };
    const task = await (await fetch('/v1/tasks', { method: 'POST', headers, body: JSON.stringify({ project_id: project, title: 'Draft' }) })).json();
    // Renamed once the labeller's event handler has seen "Draft": its panel sees the new title.
    const installations = (await (await fetch('/v1/installations')).json()).data;
    const labeller = installations.find((i) => i.app_name === 'Auto-labeller').id;
    for (let i = 0; i < 100; i++) {
      const deliveries = (await (await fetch(`/v1/deliveries?subscriber_id=${labeller}`)).json()).data;
      // Its deliveries: "Write the plan", then "Draft".
      if (deliveries.filter((d) => d.state === 'succeeded').length >= 2) break;
      await new Promise((done) => setTimeout(done, 100));
    }
    const res = await fetch(`/v1/tasks/${task.id}`, { method: 'PATCH', headers, body: JSON.stringify({ title }) });
    if (!res.ok) throw new Error(`renaming the task: ${res.status}`);
    return task.id;
  }, [projectId, hostileTitle]);
  await admin.goto(`/tasks/${taskId}`);
  const panel = admin.getByRole('region', { name: 'Auto-labeller' });
  await panel.getByRole('button', { name: 'Add the labels' }).waitFor();
  check(await panel.locator('strong').innerText() === hostileTitle, 'the title is shown as text, in bold');
  check(await panel.locator('img, script, b').count() === 0, 'no markup of the plugin\'s strings became elements');
  check(await admin.evaluate(() => window.pwned) === undefined, 'no script of the plugin ran');
  check(await panel.getByRole('listitem').allInnerTexts().then((t) => t.join(',')) === 'bug', 'it offers the label the title earns');
  await shot(admin, '7-task-panel');
  await panel.getByRole('button', { name: 'Add the labels' }).click();
  await panel.getByRole('status').filter({ hasText: 'Added: bug' }).waitFor({ timeout: 10000 })
    .catch(async (e) => { throw new Error(`no notice; the panel says: ${await panel.innerText()}`, { cause: e }); });
  await panel.getByText('The title earns no label it does not have.').waitFor();
  await admin.reload();
  check((await admin.locator('#task-labels').innerText()).includes('bug'), 'the action changed the task');
  await shot(admin, '8-task-panel-after-action');
  await admin.goto(installationPath);

  // 6. Uninstall, with confirmation.
  await admin.getByRole('button', { name: 'Uninstall' }).click();
  await admin.waitForURL('**/installed');
  await admin.getByRole('link', { name: 'Auto-labeller' }).waitFor();

  await admin.goto('/marketplace');
  await shot(admin, '9-marketplace');
  console.log('web e2e: all steps passed');
} finally {
  await browser.close();
}
