/*
 * Timer reference for the open-loop lag benchmark (scripts/bench/load_engine.py).
 *
 * Wakes at RATE evenly spaced absolute deadlines for SECONDS and records, for each deadline,
 * how late it was handled: the same quantity as bottleneck's schedule lag (dispatched minus
 * intended). When a wake-up is so late that later deadlines have passed too, they are all
 * handled at once and each counts its own lateness, as the load engine does. The program does
 * nothing else, so its lateness is what this machine's timer wake-ups cost at that moment:
 * the floor for any generator that sleeps between sends.
 *
 * Usage: timer_reference [--timerfd] [--slack NS] [--slice NS] [--spin NS] RATE SECONDS
 *   (default)    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) to each deadline.
 *   --timerfd    sleep the way SwiftNIO's event loop does: a relative timerfd_settime, then
 *                epoll_wait(-1). Timers armed through timerfd ignore timer slack.
 *   --slack NS   PR_SET_TIMERSLACK for this thread (the default is 50 us; it delays
 *                clock_nanosleep wake-ups by up to that much).
 *   --slice NS   ask the fair scheduler for an NS time slice (sched_setattr sched_runtime,
 *                Linux 6.12 or later): what bottleneck's event loops ask for in open-loop steps.
 *   --spin NS    wake NS early and busy-wait to the deadline (costs CPU: see cpu_us_per_deadline).
 * Prints one JSON object: lateness percentiles in ms, the settings in force, CPU per wake-up.
 * Build: cc -O2 -o timer_reference timer_reference.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* struct sched_attr of sched_setattr(2); glibc before 2.41 has neither the type nor a wrapper. */
struct reference_sched_attr {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int compare(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples, in ms. */
static double percentile(const uint64_t *sorted, size_t n, double p) {
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return (double)sorted[rank - 1] / 1e6;
}

static void usage(void) {
    fprintf(stderr, "usage: timer_reference [--timerfd] [--slack NS] [--slice NS] [--spin NS] RATE SECONDS\n");
    exit(2);
}

int main(int argc, char **argv) {
    int use_timerfd = 0;
    long long slack = 0, slice = 0, spin = 0;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--timerfd") == 0) use_timerfd = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--slack") == 0) slack = atoll(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--slice") == 0) slice = atoll(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--spin") == 0) spin = atoll(argv[++i]);
        else usage();
    }
    if (argc - i != 2) usage();
    double rate = atof(argv[i]), seconds = atof(argv[i + 1]);
    if (rate <= 0 || rate > 1e6 || seconds <= 0 || seconds > 600 || slack < 0 || slice < 0 || spin < 0) {
        fprintf(stderr, "timer_reference: RATE must be in (0, 1e6], SECONDS in (0, 600], NS >= 0\n");
        return 2;
    }
    if (slack > 0 && prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0) != 0) {
        fprintf(stderr, "timer_reference: PR_SET_TIMERSLACK: %s\n", strerror(errno));
        return 1;
    }
    long slack_now = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    struct reference_sched_attr attr = {0};
    if (syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0) {
        fprintf(stderr, "timer_reference: sched_getattr: %s\n", strerror(errno));
        return 1;
    }
    if (slice > 0) {
        attr.size = sizeof attr;
        attr.runtime = (uint64_t)slice;
        if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0 || syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0) {
            fprintf(stderr, "timer_reference: sched_setattr: %s\n", strerror(errno));
            return 1;
        }
    }

    size_t count = (size_t)(rate * seconds);
    uint64_t *late = malloc(count * sizeof *late);
    if (!late) return 1;
    int tfd = -1, ep = -1;
    if (use_timerfd) {
        tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN};
        if (tfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) != 0) {
            fprintf(stderr, "timer_reference: timerfd/epoll: %s\n", strerror(errno));
            return 1;
        }
    }

    double gap = 1e9 / rate;
    uint64_t start = now_ns() + 1000000;
    size_t k = 0;
    while (k < count) {
        uint64_t deadline = start + (uint64_t)(gap * (double)k);
        uint64_t wake = deadline > (uint64_t)spin ? deadline - (uint64_t)spin : 0;
        uint64_t t = now_ns();
        if (t < wake) {
            if (use_timerfd) {
                struct itimerspec its = {0};
                uint64_t in = wake - t;
                its.it_value.tv_sec = (time_t)(in / 1000000000ull);
                its.it_value.tv_nsec = (long)(in % 1000000000ull);
                timerfd_settime(tfd, 0, &its, NULL);
                struct epoll_event ev;
                while (epoll_wait(ep, &ev, 1, -1) < 0 && errno == EINTR) {}
                uint64_t expirations;
                (void)!read(tfd, &expirations, sizeof expirations);
            } else {
                struct timespec ts = {.tv_sec = (time_t)(wake / 1000000000ull), .tv_nsec = (long)(wake % 1000000000ull)};
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
            }
            t = now_ns();
        }
        while (t < deadline) t = now_ns();
        /* Handle every deadline that is due, each with its own lateness. */
        while (k < count) {
            uint64_t due = start + (uint64_t)(gap * (double)k);
            if (due > t) break;
            late[k++] = t - due;
        }
    }

    struct rusage usage_now;
    getrusage(RUSAGE_SELF, &usage_now);
    double cpu = (double)usage_now.ru_utime.tv_sec + (double)usage_now.ru_utime.tv_usec / 1e6 +
                 (double)usage_now.ru_stime.tv_sec + (double)usage_now.ru_stime.tv_usec / 1e6;
    qsort(late, count, sizeof *late, compare);
    printf("{\"sleep\": \"%s\", \"rate\": %.0f, \"samples\": %zu, \"slack_ns\": %ld, \"slice_ns\": %llu, \"spin_ns\": %lld, "
           "\"p50_ms\": %.4f, \"p90_ms\": %.4f, \"p99_ms\": %.4f, \"p999_ms\": %.4f, \"max_ms\": %.4f, "
           "\"cpu_seconds\": %.4f, \"cpu_us_per_deadline\": %.2f}\n",
           use_timerfd ? "timerfd" : "clock_nanosleep", rate, count, slack_now, (unsigned long long)attr.runtime, spin,
           percentile(late, count, 50), percentile(late, count, 90), percentile(late, count, 99),
           percentile(late, count, 99.9), percentile(late, count, 100), cpu, cpu / (double)count * 1e6);
    free(late);
    return 0;
}
