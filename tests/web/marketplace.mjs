// The public marketplace in a real browser: a signed-out visitor browses and searches, opens a
// paid app's page with its icon and screenshots, signs in from its install button and comes
// back to the install page, agrees to the price and installs; the developer sees the charge in
// the portal's payouts. axe-core checks each main page for serious accessibility violations;
// screenshots go to the ignored output folder. Input: BAZAAR_E2E (JSON, from tests/api/web.rs).
import { accessible, browser, check, newPage, run, shot, signInHere, signedIn } from './lib.mjs';

async function loaded(image, what) {
  await image.scrollIntoViewIfNeeded();
  // A lazy image loads once in view: wait for it to load (or fail).
  const width = await image.evaluate((img) => (img.complete ? img.naturalWidth : new Promise((done) => {
    img.addEventListener('load', () => done(img.naturalWidth));
    img.addEventListener('error', () => done(0));
  })));
  check(width > 0, `${what} is shown`);
}

try {
  // 0. The developer puts an icon and a screenshot on the app's page, and writes a profile.
  const developer = await signedIn(run.developer, { axe: true });
  await developer.goto(run.app_path);
  await developer.getByLabel('Icon', { exact: true }).setInputFiles(run.icon);
  await developer.getByRole('button', { name: 'Upload icon' }).click();
  await developer.getByAltText("The app's icon").waitFor();
  await developer.getByLabel('Screenshot', { exact: true }).setInputFiles(run.screenshot);
  await developer.getByRole('button', { name: 'Add screenshot' }).click();
  await developer.getByRole('button', { name: 'Remove screenshot 1' }).waitFor();
  await developer.getByLabel('Screenshot', { exact: true }).setInputFiles(run.script_as_png);
  await developer.getByRole('button', { name: 'Add screenshot' }).click();
  await developer.locator('#gallery').getByText('must be a PNG, JPEG or WebP image').waitFor();
  await accessible(developer, 'the developer\'s app page');
  await developer.goto('/developer');
  await developer.getByLabel('About your organization').fill('We count things.');
  await developer.getByRole('button', { name: 'Save profile' }).click();
  await developer.getByLabel('About your organization').filter({ hasText: 'We count things.' }).waitFor();

  // 1. Signed out: the marketplace, a search, the app page.
  const visitor = await newPage({ axe: true });
  await visitor.goto('/marketplace');
  check(await visitor.getByRole('link', { name: 'Sign in' }).count() === 1, 'a visitor is offered to sign in');
  await accessible(visitor, 'the marketplace');
  await shot(visitor, '10-marketplace-signed-out');
  await visitor.getByLabel('Search').fill('monthly');
  await visitor.getByRole('button', { name: 'Search' }).click();
  await visitor.getByRole('link', { name: 'Monthly stats' }).click();
  await visitor.getByRole('heading', { name: 'Monthly stats', level: 1 }).waitFor();
  check((await visitor.title()) === 'Monthly stats · Bazaar', 'the page has the app in its title');
  await loaded(visitor.locator('header.app-head img.icon'), 'the icon');
  await loaded(visitor.getByAltText('Screenshot 1 of Monthly stats'), 'the screenshot');
  check(await visitor.getByText('9.00 EUR a month').count() >= 1, 'the price is on the page');
  await accessible(visitor, 'the app page');
  await shot(visitor, '11-app-page-signed-out');

  // 2. Sign in from the install button: back on the install page, agree to the price, install.
  await visitor.getByRole('link', { name: 'Sign in to install' }).click();
  await visitor.waitForURL(/\/signin\?next=/);
  await signInHere(visitor, run.tenant);
  await visitor.waitForURL('**/marketplace/monthly-stats/install');
  await visitor.getByText('I agree to pay 9.00 EUR a month').waitFor();
  await accessible(visitor, 'the install page');
  await shot(visitor, '12-install-with-price');
  for (const box of await visitor.getByRole('checkbox').all()) await box.check();
  await visitor.getByRole('button', { name: 'Install', exact: true }).click();
  await visitor.waitForURL('**/installed/*');
  await accessible(visitor, 'the installed app page');
  await visitor.goto('/installed');
  await visitor.locator('#billing').getByText('Monthly stats,', { exact: false }).first().waitFor();
  await accessible(visitor, 'the installed apps page');
  await shot(visitor, '13-installed-with-statement');

  // 3. The developer sees the charge, and their share, in the portal.
  await developer.goto('/developer');
  const payouts = developer.locator('#payouts');
  await payouts.getByText(/Monthly stats, \d{4}-\d{2}-\d{2} to/).waitFor();
  check((await payouts.innerText()).includes('7.20 EUR'), 'the developer is paid 80 % of 9.00 EUR');
  await accessible(developer, 'the developer portal');
  await shot(developer, '14-developer-payouts');
  console.log('marketplace e2e: all steps passed');
} finally {
  await browser.close();
}
