/* Preloaded before libfaketime by `make test-dates` only: an absolute sleep on the monotonic clock sleeps until
 * that moment of the real monotonic clock.
 *
 * make test-dates keeps the monotonic clock real (DONT_FAKE_MONOTONIC=1; the Makefile says why), but libfaketime
 * 0.9.10's clock_nanosleep still moves a TIMER_ABSTIME deadline by the fake offset: the deadline lands before the
 * clock's start and the call fails with EINVAL. Python's time.sleep is exactly such a call (a monotonic deadline,
 * so a signal cannot lengthen it), so every time.sleep raised OSError in every Python process, including those
 * started without the suite's PYTHONPATH (the installed-package test). Here the deadline becomes the time left to
 * it on the (real) monotonic clock, and libfaketime passes a relative sleep through unchanged. Every other call,
 * and the wall clock, stay libfaketime's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <time.h>

int clock_nanosleep(clockid_t clock_id, int flags, const struct timespec *request, struct timespec *remain)
{
    static int (*next)(clockid_t, int, const struct timespec *, struct timespec *);
    if (next == NULL && (next = dlsym(RTLD_NEXT, "clock_nanosleep")) == NULL)
        return ENOSYS;
    if (!(flags & TIMER_ABSTIME) || clock_id != CLOCK_MONOTONIC || request == NULL)
        return next(clock_id, flags, request, remain);
    struct timespec now, left;
    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
        return errno;
    left.tv_sec = request->tv_sec - now.tv_sec;
    left.tv_nsec = request->tv_nsec - now.tv_nsec;
    if (left.tv_nsec < 0) {
        left.tv_sec -= 1;
        left.tv_nsec += 1000000000L;
    }
    if (left.tv_sec < 0)
        return 0; /* the moment has passed, as an absolute sleep says */
    /* Interrupted, the caller sleeps again to its own deadline, as after an interrupted absolute sleep. */
    return next(clock_id, 0, &left, NULL);
}
