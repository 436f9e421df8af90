import { Type } from '@sinclair/typebox';
import { Section } from '../../lib/schema-helpers';

/**
 * Scheduling of the HA thread (VRRP and the serial heartbeat), as keepalived's global_defs sets
 * its VRRP process's: vrrp_rt_priority, vrrp_priority, vrrp_rlimit_rttime (not vrrp_no_swap:
 * mlockall makes V8 abort, see bench/README.md "the HA thread real-time"). Only
 * that thread is changed: the main thread (MQTT, control, console, Nginx) stays at normal
 * priority, so nothing it does can delay an advert.
 */
export const SchedulingSchema = Section(
  {
    rt_priority: Type.Integer({
      minimum: 0,
      maximum: 99,
      default: 10,
      description: 'Real-time priority (SCHED_RR) of the HA thread; 0 = normal scheduling (keepalived vrrp_rt_priority, whose default is 0). The default 10 puts it above every normal process and below the kernel\'s interrupt threads (50). Needs CAP_SYS_NICE or LimitRTPRIO (the shipped unit has both); refused, the thread runs at normal priority and the error is logged and shown in status (features.ha_thread).',
    }),
    nice: Type.Integer({
      minimum: -20,
      maximum: 19,
      default: -10,
      description: 'Nice value of the HA thread (keepalived vrrp_priority): what counts when rt_priority is 0, refused, or suspended by rlimit_rttime.',
    }),
    rlimit_rttime: Type.Integer({
      minimum: 1000,
      maximum: 10_000_000,
      default: 200_000,
      description: 'Microseconds of CPU the real-time HA thread may use without sleeping (RLIMIT_RTTIME; keepalived vrrp_rlimit_rttime, default 10000 for its C process). At half of it the thread is put back to normal scheduling at once, so a runaway loop cannot lock a core, with an error and the counter ha_thread.rt_suspended; real-time is restored 60 s later. At the whole of it the kernel kills the daemon (only if that could not happen). A JavaScript thread needs more than keepalived\'s 10 ms: a garbage collection of its heap can run tens of milliseconds on a slow core.',
    }),
  },
  { default: {}, description: 'Scheduling of the HA thread (VRRP, serial heartbeat), as keepalived\'s vrrp_rt_priority, vrrp_priority and vrrp_rlimit_rttime.' },
);
