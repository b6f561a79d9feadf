#include "backendreply.h"

#include <QMutexLocker>
#include <QThread>

// The receiver's child that answers are posted to. Posting to the receiver
// itself from another thread could race with its deletion; posting to the
// gate happens under the channel's lock, which the gate's destructor takes
// before Qt removes the events still queued for it, so a post either lands
// before that removal or sees the gate gone.
class ReplyGate : public QObject
{
public:
    ReplyGate(QObject *receiver, std::shared_ptr<ReplyChannel> channel)
        : QObject(receiver)
        , m_channel(std::move(channel))
    {
        m_channel->m_gate = this;
        m_channel->m_receiver = receiver;
    }

    ~ReplyGate() override
    {
        const QMutexLocker lock(&m_channel->m_mutex);
        m_channel->m_gate = nullptr;
        m_channel->m_receiver = nullptr;
    }

    [[nodiscard]] const std::shared_ptr<ReplyChannel> &channel() const { return m_channel; }

private:
    std::shared_ptr<ReplyChannel> m_channel;
};

std::shared_ptr<ReplyChannel> ReplyChannel::of(QObject *receiver)
{
    Q_ASSERT_X(receiver->thread() == QThread::currentThread(), "ReplyChannel::of", "called from another thread");
    for (QObject *child : receiver->children()) {
        if (const auto *gate = dynamic_cast<const ReplyGate *>(child))
            return gate->channel();
    }
    auto channel = std::make_shared<ReplyChannel>();
    new ReplyGate(receiver, channel);
    return channel;
}

bool ReplyChannel::post(std::function<void()> call)
{
    const QMutexLocker lock(&m_mutex);
    if (!m_gate)
        return false;
    // Runs only while the gate, and so its parent the receiver, exists:
    // queued events die with the object they were posted to.
    QMetaObject::invokeMethod(m_gate, std::move(call), Qt::QueuedConnection);
    return true;
}

bool ReplyChannel::isGone() const
{
    const QMutexLocker lock(&m_mutex);
    return !m_gate;
}

QObject *ReplyChannel::receiverHere() const
{
    const QMutexLocker lock(&m_mutex);
    if (!m_receiver || m_receiver->thread() != QThread::currentThread())
        return nullptr;
    return m_receiver;
}
