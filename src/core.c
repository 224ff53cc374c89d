/* rdkafka.core: the C layer. Each part registers itself; see private.h. */
#include "private.h"

#if defined(_WIN32)
#define RDK_EXPORT __declspec(dllexport)
#else
#define RDK_EXPORT __attribute__((visibility("default")))
#endif

RDK_EXPORT int luaopen_rdkafka_core(lua_State *L) {
    lua_newtable(L);
    rdk_open_process(L);
    rdk_open_client(L);
    rdk_open_shutdown(L);
    rdk_open_error(L);
    rdk_open_producer(L);
    rdk_open_consumer(L);
    rdk_open_admin(L);
    rdk_open_metadata(L);
    rdk_open_wake(L);
    rdk_open_mock(L);
    rdk_open_runtime(L);
    lua_pushstring(L, rd_kafka_version_str());
    lua_setfield(L, -2, "librdkafka_version");
    lua_pushinteger(L, rd_kafka_version());
    lua_setfield(L, -2, "librdkafka_version_num");
    return 1;
}
