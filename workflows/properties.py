"""Our BPMN extension properties, read from `spiffworkflow:properties` on the diagram's elements.

    <bpmn:userTask id="review" name="Рассмотрение заявки">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formKey" value="demo_review" />
          <spiffworkflow:property name="candidateGroup" value="metering" />
          <spiffworkflow:property name="slaDays" value="2" />
          <spiffworkflow:property name="statusLabel" value="Заявка на рассмотрении" />
          <spiffworkflow:property name="actor" value="staff" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>

Everything the applicant sees of a case (status, deadline, who acts next) comes from these, so an
analyst changes it in the diagram. bpmn/README.md lists them all.
"""
from dataclasses import dataclass

USER_TASK = ("formKey", "candidateGroup", "slaDays", "statusLabel", "statusLabelEn", "actor", "check")
ANY_ELEMENT = ("statusLabel", "statusLabelEn")
SERVICE_TASK = ("document",)  # the handler itself is <spiffworkflow:serviceTaskOperator id="...">
PROCESS = ("casePrefix", "slaDays", "check", "applicantAccount")
ACTORS = ("staff", "applicant")


@dataclass(frozen=True)
class TaskProperties:
    form_key: str | None
    candidate_group: str | None
    sla_days: int | None
    status_label: str | None
    status_label_en: str | None
    actor: str
    handler: str | None
    check: str | None  # a named check run on the form's values before the task completes


def of(task_spec) -> TaskProperties:
    props = (getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {}
    lane = getattr(task_spec, "lane", None)
    sla = props.get("slaDays")
    return TaskProperties(
        form_key=props.get("formKey") or None,
        # The lane names the group unless the task says otherwise.
        candidate_group=props.get("candidateGroup") or lane or None,
        sla_days=int(sla) if sla not in (None, "") else None,
        status_label=props.get("statusLabel") or None,
        status_label_en=props.get("statusLabelEn") or None,
        actor=props.get("actor") or ("applicant" if (lane or "").lower() == "applicant" else "staff"),
        # Service tasks name their handler as the Spiff service-task operator.
        handler=getattr(task_spec, "operation_name", None) or None,
        check=props.get("check") or None,
    )
