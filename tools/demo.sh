#!/usr/bin/env bash
# The main job: build flowgate, validate and draw every shipped workflow, then run the engine on its
# embedded SQLite default: start an instance of each shipped workflow, fire it through to an end as
# the people who do that work, and print each history.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" --target flowgate
fg=build/default/tools/flowgate

out=build/demo
mkdir -p "$out"
db="$out/demo.db"
rm -f "$db" "$db-wal" "$db-shm"

echo "== validating the shipped workflows"
$fg validate workflows/*.toml

for wf in workflows/*.toml; do
  name=$(basename "$wf" .toml)
  $fg graph "$wf" --format mermaid > "$out/$name.mmd"
  $fg graph "$wf" --format svg > "$out/$name.svg"
  echo "== $name: diagram written to $out/$name.svg (Mermaid source: $out/$name.mmd)"
done

start() {  # start WORKFLOW AS DATA KEY -> prints the instance id
  $fg start --db "$db" --workflows workflows "$1" --as "$2" --data "$3" --key "$4" --format json |
    sed -n 's/.*"instance_id": "\([^"]*\)".*/\1/p'
}
step() {  # step INSTANCE EVENT AS [PAYLOAD]
  local state
  state=$($fg fire --db "$db" --workflows workflows "$1" "$2" --as "$3" --payload "${4:-}" \
            --format json | sed -n 's/.*"state": "\([^"]*\)".*/\1/p')
  printf '  %-24s by %-28s → %s\n' "$2" "$3" "$state"
}

echo
echo "== Lead to Cash: a web lead becomes a signed, delivered and paid contract"
ltc=$(start ltc marketing:mia '{"channel": "web"}' CRM-4711)
echo "  started $ltc"
step "$ltc" assign_lead          marketing:mia            '{"account_owner": "Ana Silva", "region": "emea"}'
step "$ltc" contact_lead         AR:ana                   '{"budget_confirmed": true, "estimated_value": "300000"}'
step "$ltc" qualify_lead         AR:ana                   '{"expected_close": "2026-09-30"}'
step "$ltc" complete_analysis    AR:ana                   '{"main_competitor": "Globex"}'
step "$ltc" record_first_contact AR:ana                   '{"budget_approved": true, "budget_amount": "320000"}'
step "$ltc" send_initial_quote   SR:sven                  '{"amount": "310000"}'
step "$ltc" authorise_to_bid     sales_director:dora      '{"presales_days": 25}'
step "$ltc" record_needs         SR:sven                  '{"pain_points": "month-end close takes 9 days"}'
step "$ltc" shortlist_solution   AR:ana
step "$ltc" complete_poc         SR:sven                  '{"outcome": "passed"}'
step "$ltc" map_decision_makers  AR:ana                   '{"supporter": "CFO office"}'
step "$ltc" send_final_quote     SR:sven                  '{"amount": "300000", "win_probability": "0.7"}'
step "$ltc" confirm_purchase_list AR:ana                  '{"procurement_method": "tender", "final_budget": "300000"}'
step "$ltc" assess_risk          finance:fay              '{"risk_level": "medium"}'
step "$ltc" start_negotiation    AR:ana
step "$ltc" conclude_negotiation AR:ana                   '{"contract_value": "270000", "payment_terms_days": 45}'
step "$ltc" authorise_to_contract sales_director:dora
step "$ltc" complete_contract_review legal:lou
step "$ltc" sign_contract        AR:ana                   '{"signed_on": "2026-08-14"}'
step "$ltc" hand_over_contract   FR:fred                  '{"delivery_plan": "DP-2026-117"}'
step "$ltc" deliver_po           FR:fred                  '{"amount": "120000"}'
step "$ltc" invoice_po           finance:fay              '{"amount": "120000"}'
step "$ltc" record_payment       AR:ana                   '{"amount": "120000"}'
step "$ltc" deliver_po           FR:fred                  '{"amount": "150000"}'
step "$ltc" invoice_po           finance:fay              '{"amount": "150000"}'
step "$ltc" complete_delivery    FR:fred                  '{"accepted_on": "2026-11-02"}'
step "$ltc" record_payment       finance:fay              '{"amount": "150000"}'
step "$ltc" close_contract       finance:fay

echo
echo "== Issue to Resolution: a web issue escalates L1 → L2 → L3, is reopened once, then confirmed"
itr=$(start itr service_desk:sam '{"channel": "web"}' TCK-9001)
echo "  started $itr"
step "$itr" grade                service_desk:sam         '{"impact": "medium", "urgency": "high"}'
step "$itr" classify             service_desk:sam         '{"category": "software"}'
step "$itr" look_up_context      service_desk:sam         '{"coverage": "service_contract", "service_mode": "remote"}'
step "$itr" dispatch             service_desk:sam         '{"assignee": "Lee (L1)"}'
step "$itr" escalate             l1_engineer:lee          '{"reason": "not in knowledge base", "assignee": "Kim (L2)"}'
step "$itr" wait_for_customer    l2_expert:kim            '{"reason": "need server logs"}'
step "$itr" customer_replied     service_desk:sam
step "$itr" raise_lead           l2_expert:kim            '{"lead_ref": "LTC-2026-0042"}'
step "$itr" escalate             l2_expert:kim            '{"reason": "product defect suspected", "assignee": "R&D storage team"}'
step "$itr" de_escalate          l3_rnd:rita              '{"assignee": "Kim (L2)"}'
step "$itr" resolve              l2_expert:kim            '{"resolution": "workaround", "root_cause": "cache not invalidated", "prevention": "patch 4.2.1 scheduled"}'
step "$itr" reject_resolution    service_desk:sam         '{"reason": "fails again after restart"}'
step "$itr" redispatch           service_manager:max      '{"assignee": "Kim (L2)"}'
step "$itr" resolve              l2_expert:kim            '{"resolution": "fixed", "root_cause": "cache not invalidated", "prevention": "patch 4.2.1 installed"}'
step "$itr" confirm_resolution   service_desk:sam         '{"satisfaction": 4}'

echo
echo "== Presales: kickoff to archive, with one rework after a rapid review"
pre=$(start presales presales_lead:pia '{}' OPP-4711)
echo "  started $pre"
step "$pre" kick_off             presales_lead:pia        '{"solution_responsible": "Sven"}'
for phase in introduction survey solution bidding; do
  step "$pre" confirm_resources  presales_lead:pia        '{"days": 5}'
  step "$pre" submit_deliverables SR:sven                 "{\"deliverable\": \"$phase deliverables\"}"
  if [ "$phase" = solution ]; then
    step "$pre" rework           sales_director:dora      '{"findings": "value case missing"}'
    step "$pre" submit_deliverables SR:sven               '{"deliverable": "solution document v2"}'
  fi
  step "$pre" pass_review        presales_lead:pia        "{\"summary\": \"$phase passed rapid review\"}"
done
step "$pre" pass_bid_review      bid_committee:bo         '{"summary": "technical and commercial bid approved"}'
step "$pre" score_win_probability AR:ana                  '{"win_probability": "0.65", "supporter": "CFO office"}'
step "$pre" archive              presales_lead:pia        '{"assessment": "good", "lessons_learned": "start the survey earlier"}'

for id in "$ltc" "$itr" "$pre"; do
  echo
  echo "== history of $id"
  $fg history --db "$db" "$id"
done
echo
echo "== all instances"
$fg list --db "$db"
