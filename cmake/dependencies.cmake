# Every dependency is a Debian 12 package (scripts/install-deps.sh); nothing is downloaded.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc i18n)
find_package(CURL REQUIRED)
# net/ inflates gzip answers itself, one zlib stream kept per decoder (net/body_decoder.h).
find_package(ZLIB REQUIRED)
find_package(pugixml REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(GTest REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(LibXml2 REQUIRED)
pkg_check_modules(LIBICAL REQUIRED IMPORTED_TARGET libical)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
# sd_notify for the systemd unit (Type=notify, watchdog): Debian 12 libsystemd-dev.
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
# Debian's cpp-httplib 0.11 is a compiled library: link it, header-only use fails to link.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# The daemon's HTTP server (src/service/http_server.cpp): Boost.Beast and Asio, header-only
# (Debian 12 libboost1.81-dev; nothing to link). exsim and the tests' clients keep cpp-httplib.
find_package(Boost 1.81 REQUIRED CONFIG)
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
find_package(rapidcheck QUIET)
if(AGENDASYNC_BENCH)
  find_package(benchmark REQUIRED)
endif()
