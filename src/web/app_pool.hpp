#pragma once
// SQLite connections are used by one thread at a time (store/database opens them NOMUTEX), so
// the server's request threads borrow an App (configuration + its own connection) from this
// pool and give it back when the request ends. Connections are opened on demand, up to `max`.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "services/app.hpp"

namespace cosmos::web {

class AppPool {
public:
    AppPool(config::Config config, int max);

    class Lease {
    public:
        Lease(AppPool* pool, std::unique_ptr<services::App> app)
            : m_pool(pool), m_app(std::move(app)) {}
        Lease(Lease&&) noexcept = default;
        Lease& operator=(Lease&&) = delete;
        ~Lease();
        services::App& operator*() const { return *m_app; }
        services::App* operator->() const { return m_app.get(); }

    private:
        AppPool* m_pool;
        std::unique_ptr<services::App> m_app;
    };

    // An App for this thread; waits while `max` are in use. Fails with io when the database
    // cannot be opened.
    core::Result<Lease> acquire();

    const config::Config& config() const { return m_config; }

private:
    void give_back(std::unique_ptr<services::App> app);

    config::Config m_config;
    int m_max;
    int m_open = 0;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<std::unique_ptr<services::App>> m_free;
};

}  // namespace cosmos::web
