// A typed lint rule: outside src/db/, no call may reach knex or pg. Building a query (`db('orders')`, `trx.raw(...)`,
// `db.transaction(...)`, `client.query(...)`) is a repository's job; the rest of the product calls repositories.
// Closing a pool or a connection is no query and stays allowed.

/** Calls on knex or pg objects that run no statement. */
const LIFECYCLE = new Set([
  'destroy',
  'connect',
  'end',
  'on',
  'once',
  'off',
  'removeListener',
  'removeAllListeners',
  'release',
]);

const LIBRARY = /[\\/]node_modules[\\/](knex|@types[\\/]pg|pg)[\\/]/;

export default {
  meta: {
    type: 'problem',
    docs: { description: 'Only src/db/ queries the database; everything else calls a repository' },
    messages: {
      direct:
        'This builds or runs a database query with {{library}}: move it into a repository in src/db/repositories/ and call that.',
    },
    schema: [],
  },
  create(context) {
    const services = context.sourceCode.parserServices;
    if (!services?.program || !services.esTreeNodeToTSNodeMap) return {};
    const checker = services.program.getTypeChecker();
    // A chain (`db('x').where(...).first()`) is reported once, at its first call.
    const reported = new WeakSet();
    return {
      'CallExpression:exit'(node) {
        const callee = node.callee;
        const method =
          callee.type === 'MemberExpression' && callee.property.type === 'Identifier'
            ? callee.property.name
            : undefined;
        if (method !== undefined && LIFECYCLE.has(method)) return;
        const signature = checker.getResolvedSignature(services.esTreeNodeToTSNodeMap.get(node));
        const file = signature?.getDeclaration()?.getSourceFile().fileName;
        const library = file === undefined ? null : LIBRARY.exec(file);
        if (!library) return;
        reported.add(node);
        if (callee.type === 'MemberExpression' && reported.has(callee.object)) return;
        context.report({ node, messageId: 'direct', data: { library: library[1] === 'knex' ? 'knex' : 'pg' } });
      },
    };
  },
};
