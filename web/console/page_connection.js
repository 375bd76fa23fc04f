// Connection (per organisation): the backend and its fields, write-only secrets, the mail
// domain, and "Test connection", which runs the connectivity analyzer (R8) and shows each
// check with its remedy.
import { api, orgPath } from './api.js';
import { announce, busy, errorNotice, field, h, notice, page } from './ui.js';

const VERSIONS = [['2013', 'Exchange 2013'], ['2013-sp1', 'Exchange 2013 SP1'], ['2016', 'Exchange 2016'], ['2019', 'Exchange 2019']];
const BACKENDS = [['none', 'Not connected'], ['ews', 'Exchange Server (EWS)'], ['graph', 'Exchange Online (Microsoft Graph)'], ['hybrid', 'Hybrid (both)']];

function select(name, options, value) {
  return h('select', { name }, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

/// A write-only secret: the page is told only whether one is stored, never its value.
function secretField(label, isSet, name) {
  const input = h('input', { type: 'password', name, autocomplete: 'new-password', value: '' });
  return { input, box: field(label, input, isSet ? 'Set. Type a new value to replace it; leave empty to keep it.' : 'Not set.') };
}

function readFileText(input) {
  const file = input.files && input.files[0];
  if (!file) return Promise.resolve(null);
  return file.text();
}

export async function renderConnection(main) {
  const [connection, settings] = await Promise.all([
    api('GET', orgPath('/connection')),
    api('GET', orgPath('/settings')),
  ]);
  const fromFile = connection.source === 'file';
  const status = h('div');
  const ews = connection.ews || {};
  const graph = connection.graph || {};

  const backend = select('backend', BACKENDS, connection.backend);
  const url = h('input', { name: 'ews_url', type: 'url', value: ews.url || '', autocomplete: 'off', placeholder: 'https://mail.example.com/EWS/Exchange.asmx' });
  const autodiscover = h('input', { type: 'checkbox', name: 'autodiscover', checked: !!ews.autodiscover });
  const autodiscoverWarning = notice('Autodiscover finds the EWS address from the mail domain at every start. It is off by default: it needs the Autodiscover service reachable from this server, answers slowly, and a wrong DNS record sends the service account\'s password to the wrong server. Enter the EWS URL when you know it.', 'warn');
  const version = select('version', VERSIONS, ews.version || '2016');
  const auth = select('auth', [['ntlm', 'NTLM'], ['basic', 'Basic (deprecated)'], ['oauth', 'OAuth']], ews.auth || 'ntlm');
  const domain = h('input', { name: 'domain', value: ews.domain || '', autocomplete: 'off' });
  const user = h('input', { name: 'service_account', value: ews.user || '', autocomplete: 'off' });
  const password = secretField('Service account password', ews.password_set, 'exchange_password');

  const tenant = h('input', { name: 'tenant_id', value: graph.tenant_id || '', autocomplete: 'off' });
  const client = h('input', { name: 'client_id', value: graph.client_id || '', autocomplete: 'off' });
  const secret = secretField('Client secret', graph.client_secret_set, 'graph_client_secret');
  const certificate = h('input', { type: 'file', name: 'certificate', accept: '.pem,.crt,.cer' });
  const privateKey = h('input', { type: 'file', name: 'private_key', accept: '.pem,.key' });
  const graphUrl = h('input', { name: 'graph_url', type: 'url', value: graph.graph_url || '', autocomplete: 'off' });
  const authorityUrl = h('input', { name: 'authority_url', type: 'url', value: graph.authority_url || '', autocomplete: 'off' });
  const clouds = h('details', {}, h('summary', {}, 'National cloud endpoints'),
    field('Graph URL', graphUrl, 'Empty: https://graph.microsoft.com/v1.0'),
    field('Authority URL', authorityUrl, 'Empty: https://login.microsoftonline.com'));
  const consent = connection.admin_consent_url
    ? h('p', {}, h('a', { href: connection.admin_consent_url, target: '_blank', rel: 'noopener noreferrer' }, 'Admin consent link'),
      ' — the tenant\'s global administrator opens it to grant the app its permissions.')
    : h('p', { class: 'hint' }, 'The admin consent link appears once the tenant id is saved.');

  const mailDomain = h('input', { name: 'mail_domain', value: settings.mail_domain || '', autocomplete: 'off' });
  const mailField = field('Mail domain ("E-mail DNS")', mailDomain, 'The part after @ in a mailbox address: example.com for jdoe@example.com. A mailbox is USERNAME@mail domain unless the user has a deviating address.');

  const ewsSet = h('fieldset', {}, h('legend', {}, 'Exchange Server (EWS)'),
    field('EWS URL', url, 'For example https://mail.example.com/EWS/Exchange.asmx'),
    field('Find the EWS URL by Autodiscover', autodiscover), autodiscoverWarning,
    field('Exchange version (with service pack)', version),
    field('Authentication', auth),
    field('NetBIOS domain', domain, 'For example CONTOSO'),
    field('Service account (impersonating user)', user),
    password.box);
  const graphSet = h('fieldset', {}, h('legend', {}, 'Exchange Online (Microsoft Graph)'),
    field('Directory (tenant) id', tenant),
    field('Application (client) id', client, 'Leave empty to use the platform\'s app (admin consent).'),
    secret.box,
    field('Certificate (PEM) instead of a secret', certificate, graph.certificate_pem ? 'A certificate is stored. Choose a file to replace it.' : 'None stored.'),
    field('Private key of the certificate (PEM)', privateKey, graph.private_key_set ? 'Set. Choose a file to replace it.' : 'Not set.'),
    consent, clouds);

  function showSections() {
    const b = backend.value;
    ewsSet.hidden = !(b === 'ews' || b === 'hybrid');
    graphSet.hidden = !(b === 'graph' || b === 'hybrid');
    autodiscoverWarning.hidden = !autodiscover.checked;
  }
  backend.addEventListener('change', showSections);
  autodiscover.addEventListener('change', showSections);
  showSections();

  const save = h('button', { type: 'submit', disabled: fromFile }, 'Save connection');
  const form = h('form', { novalidate: true },
    fromFile ? notice('This organisation\'s connection comes from the configuration file ([exchange]); change it there.', 'warn') : null,
    field('Backend', backend), ewsSet, graphSet, mailField, save);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(save, async () => {
      try {
        const secrets = {};
        if (password.input.value) secrets.exchange_password = password.input.value;
        if (secret.input.value) secrets.graph_client_secret = secret.input.value;
        const key = await readFileText(privateKey);
        if (key) secrets.graph_private_key = key;
        const body = {
          backend: backend.value,
          ews: { url: url.value.trim(), autodiscover: autodiscover.checked, version: version.value, auth: auth.value, domain: domain.value.trim(), user: user.value.trim() },
          graph: { tenant_id: tenant.value.trim(), client_id: client.value.trim(), graph_url: graphUrl.value.trim(), authority_url: authorityUrl.value.trim() },
        };
        const pem = await readFileText(certificate);
        if (pem) body.graph.certificate_pem = pem;
        if (Object.keys(secrets).length) body.secrets = secrets;
        await api('PUT', orgPath('/connection'), body);
        if (mailDomain.value.trim() !== (settings.mail_domain || '')) {
          await api('PUT', orgPath('/settings'), { mail_domain: mailDomain.value.trim() });
        }
        // Never keep a secret in the page after it was sent.
        password.input.value = '';
        secret.input.value = '';
        announce('Connection saved');
        await renderConnection(main);
        document.getElementById('connection-status').replaceChildren(notice('Connection saved.'));
      } catch (error) {
        status.replaceChildren(errorNotice(error));
        status.focus();
      }
    });
  });

  const results = h('div', { id: 'test-results', 'aria-live': 'polite' });
  const test = h('button', { type: 'button', class: 'secondary' }, 'Test connection');
  test.addEventListener('click', () => busy(test, async () => {
    results.replaceChildren(h('p', {}, 'Testing… this reaches Exchange and can take a few seconds.'));
    try {
      const outcome = await api('POST', orgPath('/connection/test'));
      results.replaceChildren(
        notice(outcome.passed ? 'Every check passed.' : 'Some checks failed: see the remedies below.', outcome.passed ? null : 'bad'),
        h('ul', { class: 'checks' }, outcome.checks.map((c) => h('li', {},
          h('span', { class: c.pass ? (c.warning ? 'warnlabel' : 'pass') : 'fail' }, c.pass ? (c.warning ? 'Warning' : 'Passed') : 'Failed'),
          ` ${c.check}: ${c.detail}`,
          (!c.pass || c.warning) && c.remedy ? h('p', {}, 'Remedy: ', h('code', {}, c.remedy)) : null))));
      announce(outcome.passed ? 'Connection test passed' : 'Connection test failed');
    } catch (error) {
      results.replaceChildren(errorNotice(error));
    }
  }));

  status.id = 'connection-status';
  status.tabIndex = -1;
  page(main, 'Connection', status, form, h('h2', {}, 'Test'), h('p', {}, 'Runs the connectivity analyzer on the saved connection: DNS, TLS, authentication, rights, each enabled user\'s mailbox.'), test, results);
}
