/* One place for the differences between Lua 5.1/LuaJIT, 5.3 and 5.4. */
#ifndef RDKAFKA_COMPAT_H
#define RDKAFKA_COMPAT_H

#include <math.h>
#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502
#define lua_rawlen(L, i) lua_objlen((L), (i))

/* LuaJIT 2.1 may declare these already; renaming keeps both builds happy. */
#define luaL_setfuncs rdk_compat_setfuncs
static inline void rdk_compat_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
    luaL_checkstack(L, nup + 1, "too many upvalues");
    for (; l->name != NULL; l++) {
        int i;
        for (i = 0; i < nup; i++)
            lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}

#define luaL_testudata rdk_compat_testudata
static inline void *rdk_compat_testudata(lua_State *L, int i, const char *tname) {
    void *p = lua_touserdata(L, i);
    if (p == NULL || !lua_getmetatable(L, i))
        return NULL;
    luaL_getmetatable(L, tname);
    if (!lua_rawequal(L, -1, -2))
        p = NULL;
    lua_pop(L, 2);
    return p;
}
#endif

/* A userdata with one user value: a table the collector traverses (its
 * environment on 5.1/LuaJIT). The setters pop the table. */
#if LUA_VERSION_NUM >= 504
#define rdk_newuserdata(L, size) lua_newuserdatauv((L), (size), 1)
#define rdk_setuservalue(L, idx) ((void)lua_setiuservalue((L), (idx), 1))
#define rdk_getuservalue(L, idx) ((void)lua_getiuservalue((L), (idx), 1))
#elif LUA_VERSION_NUM >= 502
#define rdk_newuserdata(L, size) lua_newuserdata((L), (size))
#define rdk_setuservalue(L, idx) lua_setuservalue((L), (idx))
#define rdk_getuservalue(L, idx) ((void)lua_getuservalue((L), (idx)))
#else
#define rdk_newuserdata(L, size) lua_newuserdata((L), (size))
#define rdk_setuservalue(L, idx) ((void)lua_setfenv((L), (idx)))
#define rdk_getuservalue(L, idx) lua_getfenv((L), (idx))
#endif

#if LUA_VERSION_NUM >= 503
/* Integers, and floats with an exact integer value (2^10, n / 2). */
static inline int rdk_isinteger(lua_State *L, int i) {
    int isnum = 0;
    if (lua_type(L, i) == LUA_TNUMBER)
        lua_tointegerx(L, i, &isnum);
    return isnum;
}
#else
/* Lua 5.1/LuaJIT have only doubles: an integral number within the range of
 * a 64-bit integer counts as one (NaN and infinities do not). */
static inline int rdk_isinteger(lua_State *L, int i) {
    lua_Number n;
    if (lua_type(L, i) != LUA_TNUMBER)
        return 0;
    n = lua_tonumber(L, i);
    return n >= -9223372036854775808.0 && n < 9223372036854775808.0 && n == floor(n);
}
#endif

/* Push a Kafka 64-bit value (offset, timestamp): an exact integer on 5.3+,
 * a double on 5.1/LuaJIT (exact below 2^53). */
static inline void rdk_pushint64(lua_State *L, long long v) {
#if LUA_VERSION_NUM >= 503
    lua_pushinteger(L, (lua_Integer)v);
#else
    lua_pushnumber(L, (lua_Number)v);
#endif
}

#endif
