// The staff of one location on the owner's page: who works there, who is invited, inviting someone by email (the
// link to send them is shown to copy), removing a member and withdrawing an invitation.
import type { Role } from '../src/domain/vocabulary.js';
import { ApiError, api, field, formError, h, onSubmit, toast } from './lib.js';

type StaffRole = Extract<Role, 'owner' | 'driver'>;
const STAFF_ROLES: StaffRole[] = ['driver', 'owner'];
const ROLE_LABEL: Record<StaffRole, string> = { owner: 'Owner', driver: 'Driver' };

interface StaffMember {
  userId: string;
  name: string;
  email: string | null;
  role: StaffRole;
  since: string;
}

interface Invitation {
  id: string;
  email: string;
  role: StaffRole;
  createdAt: string;
  expiresAt: string;
}

interface Staff {
  staff: StaffMember[];
  invitations: Invitation[];
}

interface InvitationSent extends Omit<Invitation, 'createdAt'> {
  invitationUrl: string;
}

const day = (iso: string) => new Date(iso).toLocaleDateString([], { day: 'numeric', month: 'short', year: 'numeric' });

/** One location's staff card, read when it is made and again after every change and whenever the tab comes back. */
export function staffSection(location: { id: string; name: string }): HTMLElement {
  const base = `/v1/locations/${location.id}`;
  const members = h('ul', { class: 'list', 'data-list': 'staff' });
  const invitations = h('ul', { class: 'list', 'data-list': 'invitations' });
  const problem = formError();
  const sent = h('div', { class: 'invitation-link', hidden: true, 'aria-live': 'polite' });

  const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'off', inputmode: 'email' });
  const role = h('select', { name: 'role' }, ...STAFF_ROLES.map((r) => h('option', { value: r }, ROLE_LABEL[r])));
  const invite = h(
    'form',
    { class: 'invite' },
    h('h3', {}, 'Invite someone'),
    h('div', { class: 'row' }, field('Email', email), field('Role', role)),
    formError(),
    h('button', { type: 'submit', class: 'primary block' }, 'Invite'),
  );

  const section = h(
    'section',
    { class: 'card staff', 'data-location-id': location.id, 'aria-label': `Staff of ${location.name}` },
    h('h2', {}, `Staff · ${location.name}`),
    members,
    h('h3', {}, 'Pending invitations'),
    invitations,
    problem,
    invite,
    sent,
  );

  /** A change that answers 204; the list is read again either way, so it shows what really happened. */
  const change = async (button: HTMLButtonElement, url: string) => {
    button.disabled = true;
    problem.textContent = '';
    try {
      await api('DELETE', url);
    } catch (err) {
      problem.textContent = err instanceof ApiError ? err.message : 'The request failed. Try again.';
      button.disabled = false;
    }
    await reload();
  };

  const render = ({ staff, invitations: pending }: Staff) => {
    members.replaceChildren(
      ...(staff.length === 0
        ? [h('li', { class: 'empty' }, 'Nobody yet.')]
        : staff.map((member) => {
            const remove = h(
              'button',
              { type: 'button', 'aria-label': `Remove ${member.name}`, 'data-action': 'remove' },
              'Remove',
            );
            remove.addEventListener('click', () => void change(remove, `${base}/staff/${member.userId}`));
            return h(
              'li',
              { class: 'person', 'data-user-id': member.userId, 'data-role': member.role },
              h(
                'span',
                { class: 'name' },
                member.name,
                h('br'),
                h(
                  'span',
                  { class: 'meta muted' },
                  [member.email, `since ${day(member.since)}`].filter(Boolean).join(' · '),
                ),
              ),
              h('span', { class: 'badge' }, ROLE_LABEL[member.role]),
              remove,
            );
          })),
    );
    invitations.replaceChildren(
      ...(pending.length === 0
        ? [h('li', { class: 'empty' }, 'No pending invitations.')]
        : pending.map((invitation) => {
            const withdraw = h(
              'button',
              {
                type: 'button',
                'aria-label': `Withdraw the invitation for ${invitation.email}`,
                'data-action': 'withdraw',
              },
              'Withdraw',
            );
            withdraw.addEventListener('click', () => void change(withdraw, `${base}/invitations/${invitation.id}`));
            return h(
              'li',
              { class: 'person', 'data-invitation-id': invitation.id, 'data-email': invitation.email },
              h(
                'span',
                { class: 'name' },
                invitation.email,
                h('br'),
                h('span', { class: 'meta muted' }, `until ${day(invitation.expiresAt)}`),
              ),
              h('span', { class: 'badge' }, ROLE_LABEL[invitation.role]),
              withdraw,
            );
          })),
    );
  };

  let reading: Promise<void> | undefined;
  const reload = () =>
    (reading ??= api<Staff>('GET', `${base}/staff`)
      .then(render, (err: unknown) => {
        problem.textContent = err instanceof ApiError ? err.message : 'Could not read the staff list.';
      })
      .finally(() => {
        reading = undefined;
      }));

  onSubmit(
    invite,
    async () => {
      const invitation = await api<InvitationSent>('POST', `${base}/staff`, {
        email: email.value.trim(),
        role: role.value,
      });
      showLink(invitation);
      invite.reset();
      await reload();
    },
    { role_conflict: 'email', already_staff: 'email' },
  );

  /** The link the invited person opens; it is the only way in, so it is shown once here to copy and send. */
  const showLink = (invitation: InvitationSent) => {
    const url = h('input', {
      type: 'text',
      readonly: true,
      name: 'invitationUrl',
      value: invitation.invitationUrl,
      'aria-label': `Invitation link for ${invitation.email}`,
    });
    const copy = h('button', { type: 'button' }, 'Copy link');
    copy.addEventListener('click', () => {
      url.select();
      // The clipboard is there on https and localhost only; elsewhere the selected link is copied by hand.
      if (!navigator.clipboard) return toast('Select the link and copy it', 'error');
      navigator.clipboard.writeText(invitation.invitationUrl).then(
        () => toast('Link copied'),
        () => toast('Select the link and copy it', 'error'),
      );
    });
    sent.hidden = false;
    sent.replaceChildren(
      h('p', {}, `Send this link to ${invitation.email}. It works once, until ${day(invitation.expiresAt)}.`),
      h('div', { class: 'row copy' }, url, copy),
    );
  };

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && section.isConnected) void reload();
  });
  void reload();
  return section;
}
