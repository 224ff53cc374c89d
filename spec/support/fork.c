/* Test helper: fork() and waitpid() for the specs that check handles after fork. */
#include <sys/wait.h>
#include <unistd.h>
#include <lua.h>
#include <lauxlib.h>

static int l_fork(lua_State *L) {
    lua_pushinteger(L, fork());
    return 1;
}

static int l_wait(lua_State *L) {
    int status = 0;
    waitpid((pid_t)luaL_checkinteger(L, 1), &status, 0);
    lua_pushinteger(L, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 1;
}

static int l_exit(lua_State *L) {
    _exit((int)luaL_checkinteger(L, 1));
    return 0;
}

__attribute__((visibility("default"))) int luaopen_spec_fork(lua_State *L) {
    lua_newtable(L);
    lua_pushcfunction(L, l_fork);
    lua_setfield(L, -2, "fork");
    lua_pushcfunction(L, l_wait);
    lua_setfield(L, -2, "wait");
    lua_pushcfunction(L, l_exit);
    lua_setfield(L, -2, "exit");
    return 1;
}
