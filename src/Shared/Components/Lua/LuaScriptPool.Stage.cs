using System.Collections.Concurrent;

namespace Gateway.Components.Lua;

/// <summary>
/// The Lua states of one stage (one Lua namespace of the configuration). A state serves one request at a time; the
/// pool keeps the states it made, so a request takes a state whose scripts are already compiled and creates none once
/// the pool has grown to the stage's peak concurrency. The first state is made when the gateway starts, which compiles
/// every script with the real Lua: a script the build's checker let through but Lua refuses stops the start-up, named.
/// </summary>
public sealed class LuaScriptPool : IDisposable
{
    /// <summary>States one stage may hold at once; a request beyond waits for one within its time budget.</summary>
    public const int MaxStates = 256;

    private readonly ConcurrentStack<LuaVm> _idle = new();
    private readonly SemaphoreSlim _slots = new(MaxStates, MaxStates);
    private readonly LuaLimits _limits;

    /// <param name="where">The stage, for messages: <c>modifier/lua-backend of GET /users/{id}, backend 1</c>.</param>
    /// <param name="scripts">The stage's scripts.</param>
    /// <param name="limits">The budgets of one call; <see cref="LuaLimits.Default"/> when null.</param>
    public LuaScriptPool(string where, LuaScriptSet scripts, LuaLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(scripts);
        Where = where;
        Scripts = scripts;
        _limits = limits ?? LuaLimits.Default;
        _idle.Push(Create());
    }

    /// <summary>The stage, as messages and logs name it.</summary>
    public string Where { get; }

    public LuaScriptSet Scripts { get; }

    /// <summary>Takes a state; null when the request's budget ran out while every state was in use.</summary>
    internal async ValueTask<LuaVm?> RentAsync(CancellationToken cancellation)
    {
        if (!_slots.Wait(0, CancellationToken.None))
        {
            try
            {
                await _slots.WaitAsync(cancellation).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }

        if (_idle.TryPop(out LuaVm? idle))
        {
            return idle;
        }

        try
        {
            return Create();
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    /// <summary>Gives a state back. After a call that spent a budget its garbage is collected at once.</summary>
    internal void Return(LuaVm vm, bool collect)
    {
        if (collect)
        {
            vm.Collect();
        }

        _idle.Push(vm);
        _slots.Release();
    }

    private LuaVm Create()
    {
        try
        {
            return LuaVm.Create(Scripts, _limits);
        }
        catch (LuaStartupException e)
        {
            throw new LuaStartupException($"{Where}: {e.Message}", e);
        }
    }

    public void Dispose()
    {
        while (_idle.TryPop(out LuaVm? vm))
        {
            vm.Dispose();
        }

        _slots.Dispose();
    }
}
