// sched_getattr(2) and sched_setattr(2) for the calling thread. glibc before 2.41 has no
// wrappers, and Swift cannot call the variadic syscall(2), so these two inline shims do;
// likewise prctl(2) for the thread's name (pthread_setname_np needs _GNU_SOURCE).
#ifndef BOTTLENECK_CSCHED_SHIM_H
#define BOTTLENECK_CSCHED_SHIM_H
#if defined(__linux__)
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

// The kernel's struct sched_attr up to sched_period (SCHED_ATTR_SIZE_VER0, 48 bytes), which
// every kernel since 3.14 accepts. Declared here: glibc < 2.41 and <linux/sched/types.h> clash.
typedef struct {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;  // for SCHED_OTHER since Linux 6.12: the requested time slice
    uint64_t sched_deadline;
    uint64_t sched_period;
} csched_attr;

// Returns 0, or -1 with errno set.
static inline int csched_getattr(csched_attr *attr) {
    return (int)syscall(SYS_sched_getattr, 0, attr, (unsigned int)sizeof(*attr), 0u);
}

// Returns 0, or -1 with errno set.
static inline int csched_setattr(csched_attr *attr) {
    attr->size = (uint32_t)sizeof(*attr);
    return (int)syscall(SYS_sched_setattr, 0, attr, 0u);
}

// Names the calling thread (at most 15 bytes kept). Returns 0, or -1 with errno set.
static inline int csched_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0ul, 0ul, 0ul);
}
#endif
#endif
