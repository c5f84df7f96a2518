// The pool of Apps (one SQLite connection each) the request threads borrow (app_pool.hpp).

#include "web/app_pool.hpp"

namespace cosmos::web {

AppPool::AppPool(config::Config config, int max) : m_config(std::move(config)), m_max(max) {}

AppPool::Lease::~Lease() {
    if (m_app) {
        m_pool->give_back(std::move(m_app));
    }
}

core::Result<AppPool::Lease> AppPool::acquire() {
    {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return !m_free.empty() || m_open < m_max; });
        if (!m_free.empty()) {
            auto app = std::move(m_free.back());
            m_free.pop_back();
            return Lease(this, std::move(app));
        }
        ++m_open;
    }
    auto db = store::Database::open(services::database_path(m_config));
    if (!db) {
        std::lock_guard lock(m_mutex);
        --m_open;
        m_cv.notify_one();
        return core::fail(db.error());
    }
    return Lease(this, std::make_unique<services::App>(services::App{m_config, std::move(*db)}));
}

void AppPool::give_back(std::unique_ptr<services::App> app) {
    std::lock_guard lock(m_mutex);
    m_free.push_back(std::move(app));
    m_cv.notify_one();
}

}  // namespace cosmos::web
