/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --hold-new (engine-private): the exec tracepoint stops (SIGSTOP) a process whose
 * executable discovery has not classified yet and records it in a BPF map; this
 * module continues it (SIGCONT) once discovery has looked at the file and attached
 * what it found, and in any case:
 *   - after a bound (HOLD_BOUND_MS), from a watchdog thread of its own, whatever
 *     discovery is doing;
 *   - at stop, and when ecaptop exits through exit() or a fatal signal it can catch
 *     (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT): holding is switched off first, then
 *     every held process is continued.
 * A SIGKILLed ecaptop cannot do this: its held processes stay stopped until sent
 * SIGCONT (README).
 */
#ifndef ECAPTOP_ENGINE_HOLD_H
#define ECAPTOP_ENGINE_HOLD_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define HOLD_BOUND_MS 200

struct proc_bpf;
struct hold;

/* Borrows proc (loaded with hold_new). clock: the BPF programs' clock. NULL + errno. */
struct hold *hold_new(struct proc_bpf *proc, clockid_t clock);
/* Switch holding on and start the watchdog. 0 or -errno. */
int hold_start(struct hold *h);
/* Discovery has classified this executable (kernel device encoding, inode): never
 * hold it again. */
void hold_known(struct hold *h, uint32_t kdev, uint64_t ino);
/* Continue a held process (discovery is done with it). Returns how long it was held
 * in ms, or -1 if it was not held (any more). */
long hold_release(struct hold *h, pid_t pid);
/* Switch holding off, stop the watchdog, continue every held process. Accepts NULL. */
void hold_free(struct hold *h);

#endif
