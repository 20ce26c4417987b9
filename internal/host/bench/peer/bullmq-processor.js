// The BullMQ peer's function as a sandboxed processor (node bullmq.js sandboxed …):
// BullMQ runs it in a child process and passes the job over IPC. The child leaves with
// its worker, even one killed without closing its pool.
'use strict';
process.on('disconnect', () => process.exit(0));
module.exports = async (job) => job.data;
