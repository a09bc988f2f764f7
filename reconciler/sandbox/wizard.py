"""The parameters Alma's Run-a-Job wizard shows for "Update/Notify Users", and their checks.

The list is the one a real "Update/Notify Users" run sent through the API (University of
Maryland Global Campus' script, see reference/alma-api.md §5): 72 parameters, most of them an
`_Active` switch with its `_Value`, `_Condition` and `_Scope` companions, plus set_id and
job_name. Values are the wizard's defaults with every change switched off.

Alma refuses a run that lacks any of them (402228 "Mandatory parameter is missing from input:
X") and one whose mandatory value is empty (402229). Which values Alma requires to be non-empty
is not documented; the sandbox requires set_id, and the `_Value` of every switch that is on
(an empty Campus_Value is fine while Campus_Active is "false", as the real payload shows).
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.sandbox.http import AlmaError

_U = "UPDATE_User_Information_"
WIZARD_PARAMETERS: tuple[tuple[str, str], ...] = (
    (f"{_U}AddBlock_Scope_Name", "Null"),
    (f"{_U}DontGeneratePassword_Value", "false"),
    (f"{_U}DisableBlock_Active", "false"),
    (f"{_U}AddRole_Scope", "Null"),
    (f"{_U}Title_Value", "Null"),
    (f"{_U}Opt_Out_Patron_Letters_Value", "Null"),
    (f"{_U}DisableSMS_Value", "false"),
    (f"{_U}SetAccountTo_Value", "Null"),
    ("SEND_Notification_To_User_Active", "false"),
    (f"{_U}CatalogerLevel_Active", "false"),
    (f"{_U}RemoveRole_Scope_Name", "Null"),
    (f"{_U}JobDescription_Active", "false"),
    (f"{_U}Status_Active", "false"),
    (f"{_U}RemoveRole_Scope", "Null"),
    (f"{_U}AddNote_Scope", "Null"),
    ("PRODUCT", "alma"),
    (f"{_U}Opt_In_Patron_Letters_Active", "false"),
    (f"{_U}JobDescription_Condition", "Null"),
    (f"{_U}AddNote_Value", ""),
    (f"{_U}RemoveStatistics_Value", "Null"),
    (f"{_U}Status_Condition", "Null"),
    (f"{_U}FieldType_Value", "BY_USER_ACCOUNT_TYPE"),
    (f"{_U}AddStatistics_Scope_Name", "Null"),
    (f"{_U}AddRole_Active", "false"),
    (f"{_U}ExportToCloudIdP_Active", "false"),
    (f"{_U}Status_Value", "ACTIVE"),
    (f"{_U}DisableBlock_Value", "02-GLOBAL"),
    (f"{_U}AddStatistics_Active", "false"),
    (f"{_U}RSL_Active", "false"),
    (f"{_U}AddStatistics_Value", "Null"),
    (f"{_U}Opt_In_Patron_Letters_Value", "Null"),
    (f"{_U}Expiry_Date_Active", "false"),
    (f"{_U}Expiry_Date_Condition", "Null"),
    (f"{_U}AddBlock_Scope", "Null"),
    (f"{_U}RemoveStatistics_Active", "false"),
    (f"{_U}Opt_Out_Patron_Letters_Active", "false"),
    (f"{_U}AddNote_Scope_Name", "Null"),
    (f"{_U}CatalogerLevel_Value", "Null"),
    (f"{_U}AddRole_Value", "Null"),
    (f"{_U}Campus_Value", ""),
    (f"{_U}UserGroup_Value", "Null"),
    (f"{_U}Purge_Date_Value", ""),
    (f"{_U}AddRole_Scope_Name", "Null"),
    (f"{_U}Purge_Date_Active", "false"),
    ("SEND_Notification_To_User_Value", "Null"),
    (f"{_U}Title_Active", "false"),
    (f"{_U}SetAccountTo_Active", "false"),
    (f"{_U}DisableBlock_Scope", "Null"),
    (f"{_U}JobDescription_Value", ""),
    (f"{_U}RSL_Value", ""),
    (f"{_U}Title_Condition", "Null"),
    (f"{_U}UserGroup_Condition", "Null"),
    (f"{_U}RemoveRole_Value", "Null"),
    (f"{_U}RemoveRole_Active", "false"),
    (f"{_U}Campus_Condition", "Null"),
    (f"{_U}AddStatistics_Scope", "Null"),
    (f"{_U}ExportToCloudIdP_Value", "false"),
    (f"{_U}Expiry_Date_Value", ""),
    (f"{_U}AddNote_Active", "false"),
    (f"{_U}DisableSMS_Active", "false"),
    (f"{_U}RemoveRSL_Active", "false"),
    (f"{_U}DontGeneratePassword_Active", "false"),
    (f"{_U}UserGroup_Active", "false"),
    (f"{_U}RemoveStatistics_Scope", "Null"),
    (f"{_U}RemoveRSL_Value", ""),
    (f"{_U}Purge_Date_Condition", "Null"),
    (f"{_U}AddBlock_Active", "false"),
    (f"{_U}AddBlock_Value", "02-GLOBAL"),
    (f"{_U}DisableBlock_Scope_Name", "Null"),
    (f"{_U}Campus_Active", "false"),
    ("set_id", ""),
    ("job_name", ""),
)
MANDATORY = tuple(name for name, _ in WIZARD_PARAMETERS)


def wizard_parameters(set_id: str, target_group: str, job_name: str = "") -> dict[str, str]:
    """A complete run that moves the set's users to `target_group` and changes nothing else."""
    return {
        **dict(WIZARD_PARAMETERS),
        "set_id": set_id,
        "job_name": job_name or f"Update/Notify Users - via API - set {set_id}",
        f"{_U}UserGroup_Active": "true",
        f"{_U}UserGroup_Value": target_group,
    }


def check_wizard_parameters(params: Mapping[str, str]) -> None:
    """Raise Alma's 402228 for the first missing parameter, 402229 for an empty mandatory value."""
    for name in MANDATORY:
        if name not in params:
            raise AlmaError(400, "402228", f"Mandatory parameter is missing from input: {name}")
    required = ["set_id"] + [
        name.removesuffix("_Active") + "_Value"
        for name, value in params.items()
        if name.endswith("_Active") and value.strip().lower() == "true"
    ]
    for name in required:
        if name in params and not params[name].strip():
            raise AlmaError(400, "402229", f"Mandatory parameter value is empty: {name}")
