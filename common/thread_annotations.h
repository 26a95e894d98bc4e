// Clang thread-safety annotations and the annotated mutex the product code uses.
//
// `GUARDED_BY(mu_)` on a member says which mutex protects it; `REQUIRES(mu_)` on a method says its
// caller holds it. Under clang, `-Wthread-safety` checks them (scripts/check_thread_safety.sh, the
// test `thread_safety.clang_analysis`, label `unit`); under GCC they expand to nothing. libstdc++'s
// std::mutex carries no annotations, hence `bora::Mutex`, `bora::MutexLock` and `bora::CondVar`
// (which waits with the MutexLock held, so the analysis sees the mutex held throughout). A wait
// predicate is a lambda, which the analysis checks on its own: it starts with `mu_.AssertHeld()`.
// `Mutex::native()` hands the std::mutex to code that needs a std::unique_lock (invisible to the
// analysis: such mutexes guard no annotated member).
#pragma once

#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define BORA_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define BORA_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) BORA_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY BORA_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) BORA_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) BORA_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) BORA_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) BORA_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define REQUIRES(...) BORA_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) BORA_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) BORA_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) BORA_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) BORA_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) BORA_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) BORA_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) BORA_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define TRY_ACQUIRE_SHARED(...) BORA_THREAD_ANNOTATION(try_acquire_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) BORA_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) BORA_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) BORA_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS BORA_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace bora {

// std::mutex with the capability annotations. Not movable, not copyable (as std::mutex).
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // BasicLockable spelling, so std::lock_guard and std::scoped_lock still work (tests use them);
  // the analysis does not follow those guards, product code uses MutexLock.
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  bool try_lock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // Tells the analysis the caller holds this mutex (e.g. inside a condition variable's predicate).
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

  // The wrapped std::mutex, for std::condition_variable (through std::unique_lock) and for
  // interfaces that hand out a std::unique_lock<std::mutex>. Locking it directly is invisible to
  // the analysis.
  std::mutex& native() RETURN_CAPABILITY(this) { return mu_; }

 private:
  std::mutex mu_;
};

// RAII lock of a Mutex (std::lock_guard's counterpart), with an early Unlock for the paths that
// release before leaving the scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  ~MutexLock() RELEASE() {
    if (locked_) mu_.Unlock();
  }
  void Unlock() RELEASE() {
    mu_.Unlock();
    locked_ = false;
  }
  void Lock() ACQUIRE() {
    mu_.Lock();
    locked_ = true;
  }

 private:
  Mutex& mu_;
  bool locked_ = true;
};

// A condition variable for a Mutex: Wait/WaitFor/WaitUntil require the mutex held (by a MutexLock)
// and hold it again when they return, as std::condition_variable does with a std::unique_lock.
class CondVar {
 public:
  void Wait(Mutex& mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.native(), std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  template <typename Pred>
  void Wait(Mutex& mu, Pred pred) REQUIRES(mu) {
    while (!pred()) Wait(mu);
  }
  // Returns std::cv_status::timeout when the time passed.
  template <typename Rep, typename Period>
  std::cv_status WaitFor(Mutex& mu, const std::chrono::duration<Rep, Period>& d) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.native(), std::adopt_lock);
    std::cv_status s = cv_.wait_for(lock, d);
    lock.release();
    return s;
  }
  // Returns pred() (false: timed out with pred() still false), as
  // std::condition_variable::wait_for.
  template <typename Rep, typename Period, typename Pred>
  bool WaitFor(Mutex& mu, const std::chrono::duration<Rep, Period>& d, Pred pred) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.native(), std::adopt_lock);
    bool r = cv_.wait_for(lock, d, [&]() NO_THREAD_SAFETY_ANALYSIS { return pred(); });
    lock.release();
    return r;
  }
  template <typename Clock, typename Duration>
  std::cv_status WaitUntil(Mutex& mu, const std::chrono::time_point<Clock, Duration>& t)
      REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.native(), std::adopt_lock);
    std::cv_status s = cv_.wait_until(lock, t);
    lock.release();
    return s;
  }
  template <typename Clock, typename Duration, typename Pred>
  bool WaitUntil(Mutex& mu, const std::chrono::time_point<Clock, Duration>& t, Pred pred)
      REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.native(), std::adopt_lock);
    bool r = cv_.wait_until(lock, t, [&]() NO_THREAD_SAFETY_ANALYSIS { return pred(); });
    lock.release();
    return r;
  }
  void NotifyOne() noexcept { cv_.notify_one(); }
  void NotifyAll() noexcept { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace bora
