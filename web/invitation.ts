// The invitation page: the token in the address's fragment (never sent to a server in a request line or a referrer) is
// the credential; it shows the location, the role and the email invited, and accepting signs the person in.
import type { Role } from '../src/domain/vocabulary.js';
import {
  $,
  ApiError,
  PAGE_OF_ROLE,
  PASSWORD_RULE,
  api,
  field,
  formError,
  h,
  onSubmit,
  type SessionUser,
} from './lib.js';

interface InvitationView {
  email: string;
  role: Extract<Role, 'owner' | 'driver'>;
  location: { id: string; name: string };
  expiresAt: string;
  existingUser: boolean;
}

const ROLE_NAME = { owner: 'an owner', driver: 'a driver' } as const;
const PAGE_NAME = { owner: 'the shop dashboard', driver: 'the driver page' } as const;
const UNUSABLE: Record<string, string> = {
  not_found: 'This invitation does not exist. Check that you opened the whole link.',
  invitation_expired: 'This invitation has expired. Ask for a new one.',
  invitation_used: 'This invitation has already been accepted.',
};

const app = $('#app');
const token = decodeURIComponent(location.hash.replace(/^#/, ''));

function unusable(message: string): void {
  app.replaceChildren(
    h('section', { class: 'card', id: 'invitation' }, h('p', { class: 'error', role: 'alert' }, message)),
  );
}

function accepted(user: SessionUser, invitation: InvitationView): void {
  const role = user.role === 'owner' || user.role === 'driver' ? user.role : invitation.role;
  app.replaceChildren(
    h(
      'section',
      { class: 'card', id: 'accepted' },
      h('h2', {}, 'Welcome'),
      h('p', {}, `${user.name}, you are now ${ROLE_NAME[role]} at ${invitation.location.name}.`),
      h(
        'a',
        { class: 'button primary block', href: PAGE_OF_ROLE[user.role], id: 'continue' },
        `Open ${PAGE_NAME[role]}`,
      ),
    ),
  );
}

function show(invitation: InvitationView): void {
  const name = h('input', { name: 'name', required: true, autocomplete: 'name', maxlength: 100 });
  const password = h('input', {
    type: 'password',
    name: 'password',
    required: true,
    autocomplete: invitation.existingUser ? 'current-password' : 'new-password',
    ...(invitation.existingUser ? {} : { minlength: PASSWORD_RULE.min, maxlength: PASSWORD_RULE.max }),
  });
  // The email is the account's name for the browser's password manager.
  const username = h('input', {
    type: 'email',
    name: 'username',
    value: invitation.email,
    autocomplete: 'username',
    readonly: true,
    hidden: true,
  });
  const form = h(
    'form',
    { class: 'card', id: 'invitation' },
    h('h2', {}, invitation.location.name),
    h('p', {}, `You are invited to work here as ${ROLE_NAME[invitation.role]}.`),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Location'),
      h('dd', { 'data-field': 'location' }, invitation.location.name),
      h('dt', {}, 'Role'),
      h('dd', { 'data-field': 'role' }, invitation.role),
      h('dt', {}, 'Email'),
      h('dd', { 'data-field': 'email' }, invitation.email),
    ),
    username,
    ...(invitation.existingUser
      ? [
          h('p', { class: 'muted' }, 'You already have an account with this email: enter its password to accept.'),
          field('Password', password),
        ]
      : [field('Your name', name), field('Choose a password', password, PASSWORD_RULE.text)]),
    formError(),
    h('button', { type: 'submit', class: 'primary block' }, 'Accept the invitation'),
  );
  onSubmit(
    form,
    async () => {
      const { user } = await api<{ user: SessionUser }>(
        'POST',
        `/v1/invitations/${encodeURIComponent(token)}/accept`,
        // An existing account keeps its name: only its password is sent.
        invitation.existingUser ? { password: password.value } : { name: name.value.trim(), password: password.value },
      );
      accepted(user, invitation);
    },
    { invalid_credentials: 'password', role_conflict: '' },
  );
  app.replaceChildren(form);
  (invitation.existingUser ? password : name).focus();
}

if (!token) {
  unusable('This page opens from an invitation link. Ask for the link again.');
} else {
  try {
    show(await api<InvitationView>('GET', `/v1/invitations/${encodeURIComponent(token)}`));
  } catch (err) {
    unusable(
      err instanceof ApiError
        ? (UNUSABLE[err.code] ?? err.message)
        : 'Could not reach the server. Reload to try again.',
    );
  }
}
