// The BullMQ peer's function as a sandboxed processor (node bullmq.js sandboxed …):
// BullMQ runs it in a child process and passes the job over IPC.
'use strict';
module.exports = async (job) => job.data;
