// The end of what `npm start` and `npm run cluster` print once ready: the demo location, its users and a first order.
import { DEMO_PASSWORD, demoEmail, type DemoData, type DemoUserName } from '../db/seed.js';

export function demoGuide(opts: {
  demo: DemoData;
  /** Where the demo data (and so the tokens) are kept. */
  demoFile: string;
  /** The API the sample order goes to. */
  apiUrl: string;
  slotId: string | undefined;
  productIds: string[];
}): string {
  const { demo } = opts;
  const tokens = (Object.entries(demo.users) as [DemoUserName, { token: string }][])
    .map(([name, u]) => `    ${name.padEnd(10)} ${demoEmail(name).padEnd(22)} ${u.token}`)
    .join('\n');
  const order = {
    locationId: demo.locationId,
    slotId: opts.slotId ?? '<a slot id from GET /v1/locations/:id/slots>',
    items: [{ productId: opts.productIds[0], quantity: 2 }],
    address: { lat: 51.52, lng: -0.07, line1: '1 Brick Lane' },
  };
  return `  Demo location  ${demo.locationId}
  Demo users: email, password "${DEMO_PASSWORD}", and API token (also in ${opts.demoFile}):
${tokens}

Place an order as the demo customer:
  curl -s -X POST ${opts.apiUrl}/v1/orders -H 'Authorization: Bearer ${demo.users.customer.token}' -H 'Content-Type: application/json' \\
    -d '${JSON.stringify(order)}'

Press Ctrl-C to stop everything.
`;
}
