"""`forgekit agent ...`: check a shell command against a policy, list bundles, run an agent.

forgekit agent check-command "rm -rf /" --policy headless-safe
forgekit agent sandbox-run --workspace ws -- "ls -la; touch /etc/x"
forgekit agent bundles
forgekit agent roles
forgekit agent resume RUN_ID [--step K]      # continue a workflow/graph run (fork at step K)
forgekit agent run --bundle files --workspace . "What does README.md say?"
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _check(args: argparse.Namespace) -> int:
    from forgekit.agents import ToolPolicy, load_bundle

    policy = ToolPolicy.preset(args.policy, workspace=args.workspace or Path.cwd())
    shell = load_bundle("shell").tools[0]
    decision = policy.decide(shell, {"command": args.command})
    if args.json:
        print(json.dumps(decision.model_dump(), indent=2))
    else:
        print(f"risk     : {decision.risk}")
        print(f"decision : {decision.action} ({policy.name})")
        print(f"reason   : {decision.reason}")
        for f in decision.findings[1:]:
            print(f"  also   : {f}")
    return 0 if decision.action == "allow" else 1


def _sandbox_run(args: argparse.Namespace) -> int:
    """Run a command exactly as the shell tool would: policy decision, then the sandbox."""
    import asyncio
    import shlex

    from forgekit.agents import ToolPolicy, load_bundle
    from forgekit.agents.tools import ToolEnv
    from forgekit.core.config import load_config
    from forgekit.core.sandbox import sandbox_status

    argv = list(args.cmd)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print("sandbox-run: give the command after --")
        return 2
    command = argv[0] if len(argv) == 1 else shlex.join(argv)
    cfg = load_config()
    workspace = Path(args.workspace).resolve()
    workspace.mkdir(parents=True, exist_ok=True)
    policy = ToolPolicy.preset(args.policy, workspace=workspace)
    shell = load_bundle("shell").tools[0]
    decision = policy.decide(shell, {"command": command})
    st = sandbox_status()
    where = "OFF (sandbox: none)" if cfg.sandbox.mode == "none" else st.detail
    net = "granted" if args.network or cfg.sandbox.network else "none"
    print(f"policy   : {decision.action} ({policy.name}, risk {decision.risk}): {decision.reason}")
    print(f"sandbox  : {where}; workspace {workspace} (the only writable folder); network {net}")
    if decision.action != "allow" and not args.ignore_policy:
        print("not run  : the shell tool would not run it (--ignore-policy runs it anyway)")
        return 1
    env = ToolEnv(
        workspace=workspace,
        policy=policy,
        sandbox=cfg.sandbox,
        options={"network": args.network, "timeout_s": args.timeout},
    )
    result = asyncio.run(shell.call({"command": command}, env))
    print(result)
    first = result.split("\n", 1)[0]
    return 0 if first == "exit code 0" else 1


def _bundles(args: argparse.Namespace) -> int:
    from forgekit.agents import load_bundle, shipped_bundles

    for name in shipped_bundles():
        b = load_bundle(name)
        print(f"{name}: {b.config.description}")
        for t in b.tools:
            print(f"  - {t.name} [{t.effect}]: {t.description}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from forgekit.agents import Agent, FinalAnswer, MaxSteps, TextMention
    from forgekit.agents.feedback import CLIFeedback
    from forgekit.core.component import config_of
    from forgekit.core.config import load_config
    from forgekit.models import Gateway

    cfg = load_config()
    termination = FinalAnswer() | MaxSteps(args.max_steps)
    if args.stop_word:
        termination = termination | TextMention(args.stop_word)
    agent = Agent(
        model=args.model,
        bundles=args.bundle or [],
        termination=termination,
        policy=args.policy,  # None: the forgekit.yaml `policy:` section, else headless-safe
        feedback=CLIFeedback() if args.ask else None,
        text_tools=True if args.text_tools else None,
        params={"max_tokens": args.max_tokens},
    )
    gw = Gateway(cfg)
    from forgekit.trajectory.recorder import Recorder

    sink = Recorder.start(
        cfg.path(cfg.runs_dir),
        solver=agent.name,
        config=config_of(agent),
        models=[args.model or cfg.models.default],
    )
    try:
        answer = agent.run(args.task, gw, workspace=args.workspace or Path.cwd(), sink=sink)
    finally:
        if hasattr(gw, "close"):
            gw.close()
    events = getattr(agent.last_sink, "events", None)
    if events is None and sink is not None:
        from forgekit.trajectory import Trajectory

        events = Trajectory.load(sink.path).events
    from forgekit.core.events import StepEvent, ToolCallEvent

    pending: list[str] = []  # tool calls are recorded before the step that made them
    for e in events or []:
        if isinstance(e, ToolCallEvent):
            pending.append(f"   {e.name} -> {e.decision}: {(e.error or e.result or '')[:200]!r}")
        elif isinstance(e, StepEvent):
            print(f"step {e.step}: {e.action or '(answer)'}")
            for line in pending:
                print(line)
            pending = []
    print(f"\nanswer      : {answer.text}")
    print(f"stop reason : {answer.stop_reason}")
    if sink is not None:
        print(f"trajectory  : {sink.path}")
    return 0


def _roles(args: argparse.Namespace) -> int:
    from forgekit.agents.roles import available_roles, role_files, shipped_roles_dir

    files = role_files(args.project)
    roles = available_roles(args.project)
    if args.json:
        print(json.dumps({n: r.config() for n, r in roles.items()}, indent=2))
        return 0
    shipped = shipped_roles_dir()
    for name, role in roles.items():
        s = role.spec
        where = "shipped" if files[name].parent == shipped else str(files[name])
        print(f"{name} ({where}): {s.description}")
        print(f"  model={s.model or '(run default)'} bundles={','.join(s.bundles) or '-'} "
              f"policy={s.policy or '(default)'}")
    return 0


def _resume(args: argparse.Namespace) -> int:
    from forgekit.agents.checkpoints import fork, resume
    from forgekit.core.config import load_config
    from forgekit.models import Gateway

    cfg = load_config()
    runs = Path(args.runs_dir) if args.runs_dir else cfg.path(cfg.runs_dir)
    gw = Gateway(cfg)
    try:
        if args.step is None:
            answer, new = resume(args.run_id, gw, runs_dir=runs, model=args.model)
        else:
            answer, new = fork(args.run_id, step=args.step, gateway=gw, runs_dir=runs,
                               model=args.model)
    finally:
        gw.close()
    print(f"run         : {new} ({'resumed' if args.step is None else 'forked'} from "
          f"{args.run_id})")
    print(f"stop reason : {answer.stop_reason}")
    print(f"answer      : {answer.text[:2000]}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("agent", help="agents: check commands, list bundles, run a task")
    agent_sub = p.add_subparsers(dest="agent_command", metavar="ACTION")
    c = agent_sub.add_parser(
        "check-command",
        help="rate a shell command and show the policy decision (exit 0 allowed, 1 blocked)",
    )
    c.add_argument("command")
    c.add_argument(
        "--policy",
        default="headless-safe",
        choices=["plan-readonly", "headless-safe", "headless-permissive", "trusted"],
    )
    c.add_argument("--workspace", help="the workspace folder (default: the cwd)")
    c.add_argument("--json", action="store_true", help="print the decision as JSON")
    c.set_defaults(func=_check)
    sr = agent_sub.add_parser(
        "sandbox-run",
        help="run a command as the shell tool would: policy decision, then the OS sandbox",
    )
    sr.add_argument("--workspace", required=True, help="the only writable folder")
    sr.add_argument("--network", action="store_true", help="grant the network")
    sr.add_argument(
        "--policy",
        default="headless-safe",
        choices=["plan-readonly", "headless-safe", "headless-permissive", "trusted"],
    )
    sr.add_argument("--timeout", type=float, default=30.0, help="seconds before it is killed")
    sr.add_argument(
        "--ignore-policy", action="store_true", help="run even when the policy would not"
    )
    sr.add_argument("cmd", nargs=argparse.REMAINDER, help="-- the command (one string or words)")
    sr.set_defaults(func=_sandbox_run)
    b = agent_sub.add_parser("bundles", help="list the shipped tool bundles and their tools")
    b.set_defaults(func=_bundles)
    ro = agent_sub.add_parser("roles", help="list the roles (shipped and the project's roles/)")
    ro.add_argument("--project", help="the project folder (default: the configured root)")
    ro.add_argument("--json", action="store_true", help="print each role's config as JSON")
    ro.set_defaults(func=_roles)
    rs = agent_sub.add_parser(
        "resume", help="continue a recorded workflow / graph / team run from its checkpoints")
    rs.add_argument("run_id")
    rs.add_argument("--runs-dir", help="where the run was recorded (default: the project's)")
    rs.add_argument("--step", type=int, help="fork: reuse only the first STEP steps")
    rs.add_argument("--model", help="the model alias for the steps that run again")
    rs.set_defaults(func=_resume)
    r = agent_sub.add_parser("run", help="run an agent on one task")
    r.add_argument("task")
    r.add_argument("--bundle", action="append", help="a bundle name or folder (repeatable)")
    r.add_argument("--model", help="model alias (default: the configured default)")
    r.add_argument(
        "--policy", help="preset or policy YAML (default: forgekit.yaml policy, else headless-safe)"
    )
    r.add_argument("--workspace", help="the workspace folder (default: the cwd)")
    r.add_argument("--max-steps", type=int, default=6)
    r.add_argument("--max-tokens", type=int, default=256)
    r.add_argument("--stop-word", help="stop when the model says this")
    r.add_argument(
        "--text-tools",
        action="store_true",
        help="use the JSON text fallback instead of native function calling",
    )
    r.add_argument(
        "--ask",
        action="store_true",
        help="ask on the terminal when the policy says ask (default: headless, ask means deny)",
    )
    r.set_defaults(func=_run)
    p.set_defaults(func=lambda a: (p.print_help(), 0)[1])
