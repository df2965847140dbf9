// Examples of the codec endpoint the Temporal Web UI calls: one order state, as Temporal stores it (encrypted) and as
// the operator reads it.
import type { OperationExamples } from './examples-shared.js';

/** `{ orderId, status: 'awaiting_payment' }` as the JSON converter writes it. */
const plain = {
  metadata: { encoding: 'anNvbi9wbGFpbg==' },
  data: 'eyJvcmRlcklkIjoiM2YyYTljMWUtNWI3ZC00ZTIxLTlhMGMtNmQ4ZTJmNGIxYTM3Iiwic3RhdHVzIjoiYXdhaXRpbmdfcGF5bWVudCJ9',
};
/** The same payload encrypted with key k2: `binary/encrypted`, and the key's id. */
const encrypted = {
  metadata: { encoding: 'YmluYXJ5L2VuY3J5cHRlZA==', 'encryption-key-id': 'azI=' },
  data: 'RKinA3enkgB8utGv0mEx+AUKlwonUL+E0uaWYcQ9gNgIBCOoD3ygwTo/Exu/DJnTJ4LI0H1GCenXisJvp00I7Q1pfkOituCsMu9W/s28/RAcBv/dG9w1/LOvEN3g0CtP8pWffN7NNhyanCab4RYc+r3Dq9qI3CnPWN9xhTJMC3qei2uVCvlnfYycSVH3hE2mEKt0MaRzedcS4XMeXpvgsgj68W1YAUqa1vD48dknQi7clod4rmPw1n6G',
};

export const CODEC_EXAMPLES: Record<string, OperationExamples> = {
  'POST /codec/decode': {
    body: { payloads: [encrypted] },
    responses: {
      200: { payloads: [plain] },
      403: { error: 'forbidden', message: 'This needs the operator role' },
      422: {
        error: 'payload_undecodable',
        message: 'A payload is encrypted with key "k1", which PAYLOAD_CODEC_KEYS does not hold (it holds "k2")',
      },
    },
  },
  'POST /codec/encode': {
    body: { payloads: [plain] },
    responses: {
      200: { payloads: [encrypted] },
      403: { error: 'forbidden', message: 'This needs the operator role' },
    },
  },
};
