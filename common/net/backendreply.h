#pragma once

#include <QMutex>
#include <QObject>

#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>

// Where backend answers for one receiver go: made once per receiver (a
// child of it, so it lives in its thread and dies with it), and safe to post
// to from any thread for as long as it may be posted to at all.
class ReplyChannel
{
public:
    // The channel of `receiver`, made on first use; call on receiver's thread.
    [[nodiscard]] static std::shared_ptr<ReplyChannel> of(QObject *receiver);

    // Any thread: queues `call` to the receiver's thread; it runs there only
    // if the receiver still exists then. False when it is gone already.
    bool post(std::function<void()> call);
    // Any thread: whether the receiver is gone (an answer would be dropped).
    [[nodiscard]] bool isGone() const;
    // The receiver, when it still exists and lives on the calling thread;
    // else nullptr. For an API of that thread that wants a QObject whose
    // destruction cancels the work (e.g. Authenticator::login's context).
    [[nodiscard]] QObject *receiverHere() const;

private:
    friend class ReplyGate;
    mutable QMutex m_mutex;
    QObject *m_gate = nullptr; // null once the receiver is gone
    QObject *m_receiver = nullptr;
};

// A backend's answer to one request of a connection, the one way every
// server's backend answers (SMTP, POP3, and webd's hashing): it may be
// called on any thread (the backend's, a worker's, the thread pool's); the
// handler then runs later, always queued, on the receiver's thread, and not
// at all when the receiver is gone meanwhile. Copyable; answer once.
template<typename... Args>
class BackendReply
{
public:
    using Handler = std::function<void(Args...)>;

    BackendReply() = default;
    // On `receiver`'s thread; the handler may use `receiver` freely.
    BackendReply(QObject *receiver, Handler handler)
        : m_channel(ReplyChannel::of(receiver))
        , m_handler(std::make_shared<const Handler>(std::move(handler)))
    {
    }

    void operator()(Args... args) const
    {
        if (!m_channel)
            return;
        m_channel->post([handler = m_handler, values = std::tuple<std::decay_t<Args>...>(std::move(args)...)] {
            std::apply(*handler, values);
        });
    }

    [[nodiscard]] bool isGone() const { return !m_channel || m_channel->isGone(); }
    [[nodiscard]] QObject *receiverHere() const { return m_channel ? m_channel->receiverHere() : nullptr; }

private:
    std::shared_ptr<ReplyChannel> m_channel;
    std::shared_ptr<const Handler> m_handler; // shared: copies of a reply do not copy captures
};

// answerOn<Outcome>(this, [this](Outcome o) { ... }): the reply a
// connection hands to its backend.
template<typename... Args, typename Handler>
[[nodiscard]] BackendReply<Args...> answerOn(QObject *receiver, Handler handler)
{
    return BackendReply<Args...>(receiver, typename BackendReply<Args...>::Handler(std::move(handler)));
}
