#!/usr/bin/env bash
# The main job: build flowgate, validate and draw every shipped workflow, then start `flowgate
# serve` on the embedded SQLite default with a simulated clock and drive one Issue-to-Resolution,
# one presales and one Lead-to-Cash journey end to end through its Unix socket, as the people who
# do that work (the server runs as you, so it honours the `--as ROLE:USER` each step names). The
# clock is advanced between steps so the timelines read like real ones; timers due meanwhile fire
# (an OLA breach escalates the ticket by itself). Steps that go to a stage-gate review are decided
# by the gatekeepers' votes. At the end it prints each timeline and stops the server (SIGTERM);
# then, as an auditor would, verifies and replays the database and reports the measures (also as
# an HTML page), and runs the shipped workflows' scenario suites with their coverage.
set -euo pipefail
shopt -s lastpipe  # `… | report` sets $lifecycle in this shell
cd "$(dirname "$0")/.."
tools/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" --target flowgate
fg=build/default/tools/flowgate

out=build/demo
mkdir -p "$out"
db="$out/demo.db"
sock="$out/flowgate.sock"
log="$out/server.log"
rm -f "$db" "$db-wal" "$db-shm" "$log"

echo "== validating the shipped workflows"
$fg validate workflows/*.toml

for wf in workflows/*.toml; do
  name=$(basename "$wf" .toml)
  $fg graph "$wf" --format mermaid > "$out/$name.mmd"
  $fg graph "$wf" --format svg > "$out/$name.svg"
  echo "== $name: diagram written to $out/$name.svg (Mermaid source: $out/$name.mmd)"
done

echo
echo "== starting flowgate serve on $db (socket $sock, simulated clock, log in $log)"
$fg serve --db "$db" --workflows workflows --socket "$sock" \
  --clock simulated --now 2026-03-02T09:00:00Z --log-file "$log" &
server=$!
stop_server() {
  if kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server"
    wait "$server" || true
  fi
}
trap stop_server EXIT
for _ in $(seq 100); do
  $fg call server.health --socket "$sock" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "the server did not start; see $log"; exit 1; }
  sleep 0.1
done
$fg call server.health --socket "$sock" --format jsonl

call() {  # call METHOD [PARAMS] -> the result as one JSON line
  $fg call "$1" "${2:-}" --socket "$sock" --format jsonl
}
field() {  # field NAME < JSON -> the value of the last string field NAME
  sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"
}
wait_for() {  # wait_for DURATION: the simulated clock moves on; timers due meanwhile fire
  local now
  now=$(call clock.advance "{\"by\": \"$1\"}" | field now)
  printf '  … %-6s later: %s\n' "$1" "$now"
}
today() {
  call clock.now | field now | cut -c1-10
}
actor() {  # actor ROLE[,ROLE]:USER -> {"user": USER, "roles": [ROLE, ...]}
  local roles=${1%%:*}
  printf '{"user": "%s", "roles": ["%s"]}' "${1#*:}" "${roles//,/\", \"}"
}
start() {  # start WORKFLOW AS DATA KEY -> prints the instance id
  $fg start --socket "$sock" "$1" --as "$2" --data "$3" --key "$4" --format jsonl | field instance_id
}
# Who submits the steps that go to a stage-gate review (the gatekeepers then vote; a submitter
# never votes on their own submission).
reviewer=SR,presales_lead:sven        # pass_review: the phase's deliverables
bid_submitter=SR,bid_committee:sven   # pass_bid_review
bid_requester=SR,sales_director:sven  # authorise_to_bid
contract_requester=AR,sales_director:ana  # authorise_to_contract
closer=FR,finance:fred                # close_contract

lifecycle=active
report() {  # report WHAT BY < INSTANCE_JSON: one line per step
  local view state
  view=$(cat)
  state=$(field state <<<"$view")
  lifecycle=$(field lifecycle <<<"$view")
  if [ "$lifecycle" = awaiting_gate ]; then
    printf '  %-24s by %-28s → %s, held for a stage-gate review\n' "$1" "$2" "$state"
  else
    printf '  %-24s by %-28s → %s\n' "$1" "$2" "$state"
  fi
}
step() {  # step INSTANCE EVENT AS [PAYLOAD]
  $fg fire --socket "$sock" "$1" "$2" --as "$3" --payload "${4:-}" --format jsonl | report "$2" "$3"
}
vote() {  # vote INSTANCE AS DECISION [MORE_JSON]: a gatekeeper's vote on the open review round
  [ "$lifecycle" = awaiting_gate ] || return 0   # the workflow has no gate here
  call gate.vote "{\"instance_id\": \"$1\", \"actor\": $(actor "$2"), \"decision\": \"$3\"${4:+, $4}}" |
    report "  vote $3" "$2"
}

echo
echo "== Issue to Resolution: a web issue; L1 misses its 2-hour OLA and flowgate escalates it to L2;"
echo "   L2 hands it to R&D, it comes back, is reopened once, then confirmed"
itr=$(start itr service_desk:sam '{"channel": "web"}' TCK-9001)
echo "  started $itr"
wait_for 10m; step "$itr" grade                service_desk:sam    '{"impact": "medium", "urgency": "high"}'
wait_for 5m;  step "$itr" classify             service_desk:sam    '{"category": "software"}'
wait_for 5m;  step "$itr" look_up_context      service_desk:sam    '{"coverage": "service_contract", "service_mode": "remote"}'
wait_for 10m; step "$itr" dispatch             service_desk:sam    '{"assignee": "Lee (L1)"}'
wait_for 3h
printf '  L1 OLA breached after 2 business hours: %s\n' \
  "$(call instance.get "{\"instance_id\": \"$itr\"}" | field state) (escalated by flowgate:sla)"
wait_for 1h;  step "$itr" wait_for_customer    l2_expert:kim       '{"reason": "need server logs"}'
wait_for 3h;  step "$itr" customer_replied     service_desk:sam
wait_for 30m; step "$itr" raise_lead           l2_expert:kim       '{"lead_ref": "LTC-2026-0042"}'
wait_for 1h;  step "$itr" escalate             l2_expert:kim       '{"reason": "product defect suspected", "assignee": "R&D storage team"}'
wait_for 20h; step "$itr" de_escalate          l3_rnd:rita         '{"assignee": "Kim (L2)"}'
wait_for 2h;  step "$itr" resolve              l2_expert:kim       '{"resolution": "workaround", "root_cause": "cache not invalidated", "prevention": "patch 4.2.1 scheduled"}'
wait_for 1d;  step "$itr" reject_resolution    service_desk:sam    '{"reason": "fails again after restart"}'
wait_for 30m; step "$itr" redispatch           service_manager:max '{"assignee": "Kim (L2)"}'
wait_for 2h;  step "$itr" resolve              l2_expert:kim       '{"resolution": "fixed", "root_cause": "cache not invalidated", "prevention": "patch 4.2.1 installed"}'
wait_for 4h;  step "$itr" confirm_resolution   service_desk:sam    '{"satisfaction": 4}'

echo
echo "== Presales: kickoff to archive, with rapid reviews after each phase and one rework"
pre=$(start presales presales_lead:pia '{}' OPP-4711)
echo "  started $pre"
wait_for 1d;  step "$pre" kick_off             presales_lead:pia   '{"solution_responsible": "Sven"}'
for phase in introduction survey solution bidding; do
  wait_for 1d; step "$pre" confirm_resources   presales_lead:pia   '{"days": 5}'
  wait_for 1w; step "$pre" submit_deliverables SR:sven             "{\"deliverable\": \"$phase deliverables\"}"
  if [ "$phase" = solution ]; then
    wait_for 1d; step "$pre" rework            sales_director:dora '{"findings": "value case missing"}'
    wait_for 3d; step "$pre" submit_deliverables SR:sven           '{"deliverable": "solution document v2"}'
  fi
  wait_for 1d; step "$pre" pass_review         "$reviewer"         "{\"summary\": \"$phase passed rapid review\"}"
  review='"answers": {"deliverables_complete": true}, "scores": {"quality": 4, "customer_fit": 4}'
  vote "$pre" presales_lead:pia go "$review"
  vote "$pre" sales_director:dora go "$review"
done
wait_for 3d;  step "$pre" pass_bid_review      "$bid_submitter"    '{"summary": "technical and commercial bid approved"}'
bid='"answers": {"technical_compliance": true, "price_authorised": true}, "scores": {"win_themes": 8, "price_competitiveness": 6}'
vote "$pre" bid_committee:bo go "$bid"
vote "$pre" bid_committee:bea go "$bid"
wait_for 1d;  step "$pre" score_win_probability AR:ana             '{"win_probability": "0.65", "supporter": "CFO office"}'
wait_for 2w;  step "$pre" archive              presales_lead:pia   '{"assessment": "good", "lessons_learned": "start the survey earlier"}'

echo
echo "== Lead to Cash: a web lead becomes a signed, delivered and paid contract"
ltc=$(start ltc marketing:mia '{"channel": "web"}' CRM-4711)
echo "  started $ltc"
wait_for 20m; step "$ltc" assign_lead          marketing:mia       '{"account_owner": "Ana Silva", "region": "emea"}'
wait_for 45m; step "$ltc" contact_lead         AR:ana              '{"budget_confirmed": true, "estimated_value": "300000"}'
wait_for 3d;  step "$ltc" qualify_lead         AR:ana              '{"expected_close": "2026-09-30"}'
vote "$ltc" sales_director:dora go '"answers": {"real_need": true, "buying_authority": true}, "scores": {"budget_fit": 4, "timing": 3}'
wait_for 1w;  step "$ltc" complete_analysis    AR:ana              '{"main_competitor": "Globex"}'
wait_for 3d;  step "$ltc" record_first_contact AR:ana              '{"budget_approved": true, "budget_amount": "320000"}'
wait_for 1w;  step "$ltc" send_initial_quote   SR:sven             '{"amount": "310000"}'
wait_for 2d;  step "$ltc" authorise_to_bid     "$bid_requester"    '{"presales_days": 25}'
bid='"answers": {"budget_confirmed": true, "decision_maker_identified": true}'
vote "$ltc" presales_lead:pia go "$bid, \"scores\": {\"competitive_position\": 7, \"strategic_fit\": 8, \"presales_cost\": 6}"
vote "$ltc" sales_director:dora go "$bid, \"scores\": {\"competitive_position\": 8, \"strategic_fit\": 7, \"presales_cost\": 7}"
wait_for 1w;  step "$ltc" record_needs         SR:sven             '{"pain_points": "month-end close takes 9 days"}'
wait_for 2w;  step "$ltc" shortlist_solution   AR:ana
wait_for 3w;  step "$ltc" complete_poc         SR:sven             '{"outcome": "passed"}'
wait_for 1w;  step "$ltc" map_decision_makers  AR:ana              '{"supporter": "CFO office"}'
wait_for 2w;  step "$ltc" send_final_quote     SR:sven             '{"amount": "300000", "win_probability": "0.7"}'
wait_for 1w;  step "$ltc" confirm_purchase_list AR:ana             '{"procurement_method": "tender", "final_budget": "300000"}'
wait_for 2d;  step "$ltc" assess_risk          finance:fay         '{"risk_level": "medium"}'
wait_for 1d;  step "$ltc" start_negotiation    AR:ana
wait_for 2w;  step "$ltc" conclude_negotiation AR:ana              '{"contract_value": "270000", "payment_terms_days": 45}'
wait_for 1d;  step "$ltc" authorise_to_contract "$contract_requester"
contract='"answers": {"price_within_mandate": true, "terms_acceptable": true}, "scores": {"margin": 6, "delivery_risk": 7, "customer_credit": 8}'
vote "$ltc" finance:fay go "$contract"
vote "$ltc" sales_director:dora go "$contract"
wait_for 3d;  step "$ltc" complete_contract_review legal:lou
wait_for 2d;  step "$ltc" sign_contract        AR:ana              "{\"signed_on\": \"$(today)\"}"
wait_for 1d;  step "$ltc" hand_over_contract   FR:fred             '{"delivery_plan": "DP-2026-117"}'
handover='"answers": {"delivery_plan_agreed": true, "team_staffed": true, "solution_walked_through": true}'
vote "$ltc" AR:ana go "$handover"
vote "$ltc" SR:sven go "$handover"
wait_for 3w;  step "$ltc" deliver_po           FR:fred             '{"amount": "120000"}'
wait_for 2d;  step "$ltc" invoice_po           finance:fay         '{"amount": "120000"}'
wait_for 45d; step "$ltc" record_payment       AR:ana              '{"amount": "120000"}'
wait_for 1w;  step "$ltc" deliver_po           FR:fred             '{"amount": "150000"}'
wait_for 2d;  step "$ltc" invoice_po           finance:fay         '{"amount": "150000"}'
wait_for 1w;  step "$ltc" complete_delivery    FR:fred             "{\"accepted_on\": \"$(today)\"}"
wait_for 40d; step "$ltc" record_payment       finance:fay         '{"amount": "150000"}'
wait_for 1d;  step "$ltc" close_contract       "$closer"
closure='"answers": {"delivery_accepted": true, "invoiced_in_full": true, "paid_in_full": true}'
vote "$ltc" finance:finn go "$closure"
vote "$ltc" AR:ana go "$closure"

for id in "$ltc" "$itr" "$pre"; do
  echo
  echo "== history of $id"
  $fg history --socket "$sock" "$id"
done
echo
echo "== all instances"
$fg list --socket "$sock"
echo
echo "== server statistics"
call server.stats

echo
echo "== stopping the server (SIGTERM)"
trap - EXIT
kill -TERM "$server"
wait "$server"
echo "  the server stopped cleanly (exit status $?); its log is in $log"

echo
echo "== the auditor: verify the database (hash chains, snapshots, definitions, checkpoints)"
$fg verify "$db"
echo
echo "== the auditor: replay every recorded step against the process version it ran on"
$fg replay "$db"
echo
echo "== the measures: funnel, win rate, time in stage, SLA/OLA on-time rates, escalations, gates"
$fg report "$db" --html "$out/report.html"
echo "  (also written as one HTML page: $out/report.html)"
echo
echo "== ops: the scenario suites of the shipped workflows (simulated clock, fresh database each)"
$fg test --coverage workflows/tests/*.toml
