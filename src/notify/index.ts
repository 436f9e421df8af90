export { NotifyRunner, type NotifyJob, type NotifyRunnerOptions, type NotifyCounters, type NotifyLog, type JobOutcome } from './runner';
export { NotifyExtension, notifyJobs, type NotifyExtensionOptions } from './extension';
export { EmailAlerter, composeMail, smtpSender, type AlertEvent, type EmailConfig, type MailMessage, type MailSender, type EmailCounters } from './email';
export { EmailExtension, type EmailExtensionOptions } from './email-extension';
