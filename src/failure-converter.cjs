// How failures are written to Temporal: a failure's message and stack trace go into its encoded attributes, which the
// payload codec encrypts like any payload, so a refusal or an activity's error that names a customer, an address or a
// bank account is not kept in clear in a history. The Web UI shows them through the codec endpoint.
// CommonJS on purpose: the worker require()s it by path in its main thread, and the workflow bundle includes it.
'use strict';
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
